"""What a customer changes on their preferences page: which messages reach them on which
channel. Every change is a consent recorded by `orders.services.customers.consent_record`, with
where it came from, so the history of who agreed to what stays in one place."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notifications.engine.links import customer_id_from_preferences_token
from orders.models import Channel, ConsentStatus, Customer, Purpose
from orders.services.customers import consent_record
from orders.services.data import ConsentData

PREFERENCES_SOURCE = "preferences page"
# Order updates by email are part of the purchase (receipt, shipping, delivery problems): the
# page does not offer to turn them off. Texts need their own consent, so they are offered.
_TEXT_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
_LABELS: dict[tuple[str, str], Promise] = {
    (Channel.SMS, Purpose.TRANSACTIONAL): _("Order updates by SMS"),
    (Channel.WHATSAPP, Purpose.TRANSACTIONAL): _("Order updates on WhatsApp"),
    (Channel.EMAIL, Purpose.MARKETING): _("News and offers by email"),
    (Channel.SMS, Purpose.MARKETING): _("News and offers by SMS"),
    (Channel.WHATSAPP, Purpose.MARKETING): _("News and offers on WhatsApp"),
}


@dataclass(frozen=True)
class PreferenceOption:
    """One switch on the page: a channel for a purpose, and whether it is on now."""

    channel: str
    purpose: str
    is_granted: bool

    @property
    def key(self) -> str:
        return f"{self.channel}_{self.purpose}"

    @property
    def label(self) -> str:
        return str(_LABELS[(self.channel, self.purpose)])


def preferences_customer_get(*, token: str) -> Customer | None:
    """The customer a preferences link names, or None when the link was not made here or the
    customer's data was erased (the page then shows nothing at all)."""
    customer_id = customer_id_from_preferences_token(token)
    if customer_id is None:
        return None
    return (
        Customer.objects.select_related("shop")
        .filter(pk=customer_id, redacted_at__isnull=True, shop__redacted_at__isnull=True)
        .first()
    )


def _reachable(customer: Customer) -> list[tuple[str, str]]:
    """The (channel, purpose) pairs this customer can be reached on, in the page's order."""
    pairs: list[tuple[str, str]] = []
    if customer.phone:
        pairs += [(channel, Purpose.TRANSACTIONAL) for channel in _TEXT_CHANNELS]
    if customer.email:
        pairs.append((Channel.EMAIL, Purpose.MARKETING))
    if customer.phone:
        pairs += [(channel, Purpose.MARKETING) for channel in _TEXT_CHANNELS]
    return pairs


def preferences_options(*, customer: Customer) -> list[PreferenceOption]:
    """The switches the page shows, each with its current value. Without a recorded consent a
    switch is off: texts and marketing need a granted one (see `orders.models.Consent`)."""
    granted = set(
        customer.consents.filter(status=ConsentStatus.GRANTED).values_list("channel", "purpose")
    )
    return [
        PreferenceOption(channel=channel, purpose=purpose, is_granted=(channel, purpose) in granted)
        for channel, purpose in _reachable(customer)
    ]


def _held(customer: Customer) -> dict[tuple[str, str], str]:
    return {
        (channel, purpose): status
        for channel, purpose, status in customer.consents.values_list(
            "channel", "purpose", "status"
        )
    }


def _record(customer: Customer, changes: dict[tuple[str, str], bool], detail: str) -> int:
    """Record each consent of `changes` (already known to differ); returns how many."""
    for (channel, purpose), is_granted in changes.items():
        consent_record(
            customer=customer,
            data=ConsentData(
                channel=channel,
                purpose=purpose,
                is_granted=is_granted,
                source=PREFERENCES_SOURCE,
                detail=detail,
            ),
        )
    return len(changes)


@transaction.atomic
def preferences_update(*, customer: Customer, choices: dict[str, bool]) -> int:
    """Apply the page's switches, keyed like `PreferenceOption.key`. Only switches the page
    offers this customer are applied; a missing one is off (an unticked checkbox sends
    nothing). Returns how many consents changed."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    held = _held(customer)
    changes = {}
    for pair in _reachable(customer):
        is_granted = bool(choices.get("_".join(pair), False))
        # Off and never given is already off: saving the page as shown records nothing.
        if (held.get(pair) == ConsentStatus.GRANTED) != is_granted:
            changes[pair] = is_granted
    return _record(customer, changes, "changed on the preferences page")


@transaction.atomic
def preferences_unsubscribe_marketing(*, customer: Customer, detail: str) -> int:
    """Revoke marketing consent on every channel at once, reachable or not today: a number
    added later must not bring offers back. Order updates are left as they are."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    held = _held(customer)
    # A revocation is written even where nothing was granted: it records the customer's
    # answer, with when and where it was given.
    changes = {
        (channel, Purpose.MARKETING.value): False
        for channel in Channel.values
        if held.get((channel, Purpose.MARKETING)) != ConsentStatus.REVOKED
    }
    return _record(customer, changes, detail)
