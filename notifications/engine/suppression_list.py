"""Staff's hand on the suppression list: add an address, take one off."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from notifications.engine.suppression import suppression_add, suppression_key
from notifications.models import Suppression, SuppressionReason
from orders.models import Channel
from orders.models.customers import validate_e164
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor


def suppression_address_clean(*, channel: str, address: str) -> str:
    """The address as the list stores it, or DomainError: an email for email, an E.164
    number (+14155550123) for SMS and WhatsApp."""
    address = address.strip()
    if channel not in Channel.values:
        raise DomainError(f"unknown channel '{channel}'")
    validator = validate_email if channel == Channel.EMAIL else validate_e164
    try:
        validator(address)
    except ValidationError as exc:
        kind = (
            "an email address" if channel == Channel.EMAIL else "a phone number like +14155550123"
        )
        raise DomainError(f"'{address}' is not {kind}") from exc
    return suppression_key(address)


def suppression_add_by_staff(
    *, shop_id: int, channel: str, address: str, actor: Actor
) -> tuple[Suppression, bool]:
    """Suppress an address by hand; an address already on the list keeps its first reason."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.SUPPRESSION_EDIT)
    key = suppression_address_clean(channel=channel, address=address)
    who = actor.get_username() if actor is not None else ""
    return suppression_add(
        shop_id=shop_id,
        channel=channel,
        address=key,
        reason=SuppressionReason.MANUAL,
        source="dashboard",
        detail=f"added by {who}" if who else "",
    )


@transaction.atomic
def suppression_remove(*, shop_id: int, suppression_id: int, actor: User) -> Suppression:
    """Take an address off the shop's list, so it may be sent to again: it undoes a bounce,
    a complaint or an opt-out, so not an agent's call."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.SUPPRESSION_EDIT)
    suppression = Suppression.objects.select_for_update().get(shop_id=shop_id, pk=suppression_id)
    suppression.delete()
    return suppression
