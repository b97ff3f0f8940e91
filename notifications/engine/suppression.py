"""The shop's do-not-send list. Sending checks it (`sending._blocked`) for every chunk."""

from notifications.models import Suppression


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
