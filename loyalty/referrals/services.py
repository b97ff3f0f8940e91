"""Referrals, from the friend opening a member's link to the referrer's points.

1. The friend gives their email (and perhaps phone) on the link's page (`referral_invite`):
   they become a customer of the shop (looked up, never overwritten), the referral is recorded
   and the friend gets the shop's introductory code. The guards run here: not the referrer
   themselves (same customer, same email once normalised, same phone), not someone who has
   ordered before; the same device behind several referrals is flagged for staff.
2. The friend's first paid order (`referral_friend_ordered`, on `order_paid`) is checked again:
   not shipped to the referrer's address, not in the referrer's name, email or phone; one
   address behind several referrals is flagged.
3. Once that order is past its return window (`referral_on_order_confirmed`, called by the
   earning part's confirmation and by this part's own sweep), the referrer gets the
   programme's points, at most `referral_monthly_cap` rewarded referrals per calendar month.
   A cancelled or refunded order earns nothing: the referral waits for the next one.

What was refused or flagged keeps its reason in words; staff see them in admin and clear or
refuse a flagged one (`referral_review_clear`, `referral_review_refuse`)."""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.ledger import Booking, entry_book
from loyalty.messages import referral_rewarded_message_schedule
from loyalty.models import (
    EntryKind,
    Member,
    Programme,
    Redemption,
    RedemptionSource,
    Referral,
    ReferralStatus,
    Subject,
)
from loyalty.models.referrals import REFERRAL_TRANSITIONS
from loyalty.referrals.matching import (
    address_fingerprint,
    email_normalised,
    name_normalised,
    phone_normalised,
)
from loyalty.rewards.codes import reward_grant
from orders.models import Customer, Order, OrderStatus, Shop
from orders.services.customers import customer_upsert
from orders.services.data import CustomerData
from postpurchase.exceptions import DomainError, IllegalTransition
from postpurchase.permissions import Actor
from postpurchase.states import can_transition

# The second referral from one device, or shipping to one address, is held for staff: a
# household may share both, a fraud ring always does.
FLAG_WHEN_SHARED_BY = 2


@dataclass(frozen=True)
class Invitation:
    referral: Referral
    # The friend's introductory code; None when refused or the shop offers none.
    redemption: Redemption | None


@dataclass(frozen=True)
class Identity:
    """How the referrer is known: every email, phone, address and name of theirs and of their
    orders, normalised."""

    customer_id: int
    emails: frozenset[str]
    phones: frozenset[str]
    addresses: frozenset[str]
    names: frozenset[str]


def referrer_identity(member: Member) -> Identity:
    customer = Customer.objects.get(pk=member.customer_id)
    shop = Shop.objects.get(pk=member.shop_id)
    region = shop.phone_region
    emails, phones, addresses, names = {customer.email}, {customer.phone}, set(), set()
    names.add(customer.full_name)
    for order in Order.objects.filter(shop_id=member.shop_id, customer_id=customer.pk).only(
        "email",
        "phone",
        "shipping_name",
        "shipping_address1",
        "shipping_address2",
        "shipping_postcode",
        "shipping_country",
    ):
        emails.add(order.email)
        phones.add(order.phone)
        names.add(order.shipping_name)
        addresses.add(_order_address(order))
    return Identity(
        customer_id=customer.pk,
        emails=frozenset(email_normalised(e) for e in emails if e),
        phones=frozenset(p for p in (phone_normalised(p, region=region) for p in phones) if p),
        addresses=frozenset(a for a in addresses if a),
        names=frozenset(n for n in (name_normalised(n) for n in names) if n),
    )


def _order_address(order: Order) -> str:
    return address_fingerprint(
        address1=order.shipping_address1,
        address2=order.shipping_address2,
        postcode=order.shipping_postcode,
        country=order.shipping_country,
    )


def _move(referral: Referral, to: str, reason: str | None = None) -> None:
    """Move the (locked) referral; `reason` replaces the words staff read, when given."""
    if not can_transition(referral.status, to, REFERRAL_TRANSITIONS):
        raise IllegalTransition(referral, referral.status, to)
    referral.status = to
    fields = ["status", "friend_order", "address_fingerprint", "rewarded_at", "updated_at"]
    if reason is not None:
        referral.reason = reason[:300]
        fields.append("reason")
    referral.save(update_fields=fields)


def _invite_refusal(member: Member, friend: Customer, email: str, phone: str) -> str:
    """Why the friend cannot be referred by this member, in words; "" when they can."""
    if friend.pk == member.customer_id:
        return "Self-referral: the friend is the referrer's own customer record."
    identity = referrer_identity(member)
    if email_normalised(email) in identity.emails:
        return "Self-referral: the friend's email is the referrer's (once normalised)."
    if phone and phone in identity.phones:
        return "Self-referral: the friend's phone number is the referrer's."
    if Order.objects.filter(shop_id=member.shop_id, customer=friend).exists():
        return "Not a new customer: the friend has ordered from the shop before."
    return ""


def _friend_find_or_create(shop: Shop, email: str, phone: str) -> Customer:
    """The customer with this email, else a new one. A visitor's words never change a known
    customer's profile (anyone can type anyone's email), and a phone number already someone
    else's is not given to the new customer."""
    existing = (
        Customer.objects.filter(shop=shop, email__iexact=email, redacted_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    if phone and Customer.objects.filter(shop=shop, phone=phone).exists():
        phone = ""
    return customer_upsert(shop=shop, data=CustomerData(email=email, phone=phone))


def _shared_flag(referral: Referral, *, field: str, what: str) -> str:
    """Flag the referral, and the others not yet rewarded, when one device or address is
    behind several; returns the reason ("" when not shared)."""
    value = getattr(referral, field)
    if not value:
        return ""
    others = Referral.objects.select_for_update().filter(shop_id=referral.shop_id, **{field: value})
    others = others.exclude(pk=referral.pk)
    if others.count() + 1 < FLAG_WHEN_SHARED_BY:
        return ""
    reason = f"Flagged: the same {what} is behind {others.count() + 1} referrals."
    for other in others.filter(status__in=[ReferralStatus.INVITED, ReferralStatus.ORDERED]):
        _move(other, ReferralStatus.FLAGGED, reason)
    return reason


def referral_invite(*, member_id: int, email: str, phone: str = "", device: str = "") -> Invitation:
    """Record the friend who gave their email on `member_id`'s referral page and issue their
    introductory code. Idempotent per friend: asking again returns the first invitation (the
    page shows the same code). Raises DomainError when the shop runs no programme."""
    email = email.strip()
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("shop").get(pk=member_id)
        shop = member.shop
        programme = Programme.objects.filter(shop=shop, is_active=True).first()
        if programme is None:
            raise DomainError("This shop runs no loyalty programme.")
        phone = phone_normalised(phone, region=shop.phone_region) if phone else ""
        friend = _friend_find_or_create(shop, email, phone)
        existing = Referral.objects.filter(shop=shop, friend=friend).first()
        if existing is not None:
            return Invitation(existing, _intro_code(existing))
        refusal = _invite_refusal(member, friend, email, phone)
        referral = Referral.objects.create(
            shop=shop,
            referrer=member,
            friend=friend,
            status=ReferralStatus.REFUSED if refusal else ReferralStatus.INVITED,
            reason=refusal,
            device_fingerprint=device,
        )
        if refusal:
            return Invitation(referral, None)
        flagged = _shared_flag(referral, field="device_fingerprint", what="device")
        if flagged:
            _move(referral, ReferralStatus.FLAGGED, flagged)
        redemption = None
        if programme.referral_friend_reward is not None:
            redemption = reward_grant(
                customer=friend,
                reward=programme.referral_friend_reward,
                source=RedemptionSource.REFERRAL,
                key=f"referral_intro:{referral.pk}",
            )
        return Invitation(referral, redemption)


def _intro_code(referral: Referral) -> Redemption | None:
    return Redemption.objects.filter(
        shop_id=referral.shop_id, idempotency_key=f"referral_intro:{referral.pk}"
    ).first()


def _order_refusal(identity: Identity, order: Order, region: str | None) -> str:
    if order.email and email_normalised(order.email) in identity.emails:
        return f"Self-referral: order {order.number} was placed with the referrer's email."
    if order.phone and phone_normalised(order.phone, region=region) in identity.phones:
        return f"Self-referral: order {order.number} gives the referrer's phone number."
    if _order_address(order) and _order_address(order) in identity.addresses:
        return f"Self-referral: order {order.number} ships to the referrer's address."
    # Orders carry no billing name: the name on the order is the payer's as the shop knows it.
    if name_normalised(order.shipping_name) in identity.names - {""}:
        return f"Self-referral: order {order.number} is in the referrer's name."
    return ""


def referral_friend_ordered(*, order_id: int) -> Referral | None:
    """The friend's first paid order: record it and check it against the referrer. Orders
    placed before the invitation, and the friend's later orders, change nothing."""
    order = Order.objects.select_related("shop").get(pk=order_id)
    if order.customer_id is None:
        return None
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .filter(
                shop_id=order.shop_id,
                friend_id=order.customer_id,
                friend_order__isnull=True,
                status__in=[ReferralStatus.INVITED, ReferralStatus.FLAGGED],
                created_at__lte=order.placed_at,
            )
            .first()
        )
        if referral is None or order.is_cancelled or order.is_payment_reversed:
            return None
        member = Member.objects.get(pk=referral.referrer_id)
        referral.friend_order = order
        referral.address_fingerprint = _order_address(order)
        refusal = _order_refusal(referrer_identity(member), order, order.shop.phone_region)
        if refusal:
            _move(referral, ReferralStatus.REFUSED, refusal)
            return referral
        flagged = _shared_flag(referral, field="address_fingerprint", what="shipping address")
        if referral.status == ReferralStatus.FLAGGED:
            reason = f"{referral.reason} {flagged}".strip() if flagged else None
            referral.save(update_fields=["friend_order", "address_fingerprint", "updated_at"])
            if reason:
                referral.reason = reason[:300]
                referral.save(update_fields=["reason"])
        elif flagged:
            _move(referral, ReferralStatus.FLAGGED, flagged)
        else:
            _move(referral, ReferralStatus.ORDERED)
        return referral


def referral_friend_order_cancelled(*, order_id: int) -> Referral | None:
    """The friend's counted order was cancelled (or all its money went back) before it was
    confirmed: the referral waits for their next order."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("friend_order")
            .filter(friend_order_id=order_id, status=ReferralStatus.ORDERED)
            .first()
        )
        if referral is None or referral.friend_order is None:
            return None
        order = referral.friend_order
        if not (order.is_cancelled or order.is_payment_reversed):
            return None
        referral.friend_order = None
        referral.address_fingerprint = ""
        _move(
            referral,
            ReferralStatus.INVITED,
            f"The friend's order {order.number} was cancelled or refunded: the next one counts.",
        )
        return referral


def _month_start(shop: Shop, now: datetime) -> datetime:
    try:
        zone = zoneinfo.ZoneInfo(shop.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(zone).date().replace(day=1)
    return datetime.combine(local, time(0), zone).astimezone(UTC)


def referral_on_order_confirmed(order_id: int, *, now: datetime | None = None) -> Referral | None:
    """The friend's first order is past its return window: reward the referrer, once (the
    booking's key is the referral's), within the monthly cap. Safe to call for any order and
    any number of times; the earning part calls it from its confirmation sweep."""
    now = now or timezone.now()
    if not Referral.objects.filter(friend_order_id=order_id).exists():
        return None
    referral_friend_order_cancelled(order_id=order_id)
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("friend_order", "shop")
            .filter(friend_order_id=order_id, status=ReferralStatus.ORDERED)
            .first()
        )
        if referral is None:
            return None
        member = Member.objects.select_for_update().get(pk=referral.referrer_id)
        programme = Programme.objects.filter(shop_id=referral.shop_id, is_active=True).first()
        if programme is None:
            return None
        rewarded = Referral.objects.filter(
            referrer=member,
            status=ReferralStatus.REWARDED,
            rewarded_at__gte=_month_start(referral.shop, now),
        ).count()
        if rewarded >= programme.referral_monthly_cap:
            _move(
                referral,
                ReferralStatus.REFUSED,
                f"Monthly cap: the referrer already had {rewarded} referrals rewarded this "
                f"month (at most {programme.referral_monthly_cap}).",
            )
            return referral
        points = programme.referral_points
        if points > 0:
            entry_book(
                member.pk,
                Booking(
                    kind=EntryKind.EARN,
                    key=f"referral:{referral.pk}",
                    subject=Subject.REFERRAL,
                    subject_id=referral.pk,
                    available=points,
                    reason="A referred friend's first order",
                    at=now,
                ),
            )
        referral.rewarded_at = now
        _move(referral, ReferralStatus.REWARDED)
        if points > 0:
            referral_rewarded_message_schedule(referral, points=points)
        return referral


def referrals_confirm_due(*, now: datetime | None = None) -> int:
    """The sweep: every referral whose friend's order is delivered and past the shop's return
    window (or was cancelled since); returns how many referrers were rewarded."""
    now = now or timezone.now()
    rewarded = 0
    waiting = Referral.objects.filter(status=ReferralStatus.ORDERED).select_related(
        "friend_order__shop"
    )
    for referral in waiting.order_by("pk"):
        order = referral.friend_order
        if order is None:
            continue
        delivered_at = order.delivered_at
        window_closed = (
            order.status in (OrderStatus.DELIVERED, OrderStatus.CLOSED)
            and delivered_at is not None
            and delivered_at + timedelta(days=order.shop.return_window_days) <= now
        )
        if order.is_cancelled or order.is_payment_reversed:
            referral_friend_order_cancelled(order_id=order.pk)
        elif window_closed:
            done = referral_on_order_confirmed(order.pk, now=now)
            rewarded += done is not None and done.status == ReferralStatus.REWARDED
    return rewarded


def referral_review_clear(*, referral_id: int, actor: Actor, note: str = "") -> Referral:
    """Staff looked at a flagged or refused referral and let it go on: to waiting for the
    friend's order, or for its confirmation when there is one."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        if referral.status not in (ReferralStatus.FLAGGED, ReferralStatus.REFUSED):
            raise DomainError("Only a flagged or refused referral can be cleared.")
        who = getattr(actor, "get_username", lambda: "staff")()
        reason = f"Cleared by {who}" + (f": {note}" if note else "") + f" (was: {referral.reason})"
        to = ReferralStatus.ORDERED if referral.friend_order_id else ReferralStatus.INVITED
        _move(referral, to, reason)
        return referral


def referral_review_refuse(*, referral_id: int, actor: Actor, note: str = "") -> Referral:
    """Staff refused a referral: the referrer gets nothing for it."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        who = getattr(actor, "get_username", lambda: "staff")()
        reason = f"Refused by {who}" + (f": {note}" if note else "")
        if referral.reason:
            reason += f" (was: {referral.reason})"
        _move(referral, ReferralStatus.REFUSED, reason)
        return referral
