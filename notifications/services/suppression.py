"""The shop's do-not-send list, and the send-time check against it and against consent."""

from notifications.models import Message, Purpose, Suppression
from orders.models import Consent, ConsentStatus


def suppression_key(address: str) -> str:
    return address.strip().lower()


def suppression_add(
    *, shop_id: int, channel: str, address: str, reason: str, source: str = "", detail: str = ""
) -> tuple[Suppression, bool]:
    """Suppress an address on a channel; suppressing it again keeps the first record."""
    return Suppression.objects.get_or_create(
        shop_id=shop_id,
        channel=channel,
        address=suppression_key(address),
        defaults={"reason": reason, "source": source[:64], "detail": detail[:255]},
    )


def message_blocked_reason(message: Message) -> str:
    """Why this message must not go out to its recipient at all, or ""."""
    suppression = (
        Suppression.objects.filter(
            shop_id=message.shop_id,
            channel=message.channel,
            address=suppression_key(message.recipient),
        )
        .only("reason")
        .first()
    )
    if suppression is not None:
        return f"recipient suppressed: {suppression.get_reason_display().lower()}"
    if (
        message.purpose == Purpose.MARKETING
        and not Consent.objects.filter(
            customer_id=message.customer_id,
            channel=message.channel,
            status=ConsentStatus.GRANTED,
        ).exists()
    ):
        return f"no marketing consent for {message.channel}"
    return ""
