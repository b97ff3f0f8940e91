"""What makes a cached loyalty page stale: every saved or deleted row the page shows.

Wired to the models' signals rather than called from each service, as the tracking page's
cache is (`orders.tracking.invalidation`), so that every write path (the ledger, the tiers,
redemptions, referrals, the programme's settings, the admin, a shell) is covered and no other
part of loyalty has to remember the page. What sends no signal is wired by hand: the tier's
12-month value moves with orders (`member_tier_recompute` renews the page, it is called for
every paid, refunded or cancelled order), and erasing a customer is an `update()` in orders,
heard through its `customer_redacted` event. Nothing else happens here."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from loyalty.models import Member, OrderEarning, Programme, Redemption, Referral, Reward, Tier
from loyalty.pages.cache import customer_page_stale, member_page_stale, shop_pages_stale
from orders.models import Customer, Shop
from postpurchase.events import Event

# Ledger entries and lots are written in the transaction that writes the member row: by
# `save()` in `loyalty.ledger` (the member's signal covers them) or, for a paid order's
# points, in one statement with the entries, whose caller renews the page itself
# (`loyalty.earning.orders.order_points_earn`).
_OF_A_MEMBER = (Member, OrderEarning)
_OF_A_SHOP = (Programme, Tier, Reward)


def _stale(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    if isinstance(instance, Member):
        if not created:  # a new member has no page yet: joining costs nothing here
            member_page_stale(instance.pk)
    elif isinstance(instance, OrderEarning):
        member_page_stale(instance.member_id)
    elif isinstance(instance, Referral):
        member_page_stale(instance.referrer_id)
    elif isinstance(instance, Redemption):
        # A friend's welcome code has no member; the codes are listed by customer.
        customer_page_stale(instance.customer_id)
    elif isinstance(instance, Customer):
        if not created:  # language, time zone, name
            customer_page_stale(instance.pk)
    elif isinstance(instance, Shop):
        shop_pages_stale(instance.pk)
    else:
        shop_pages_stale(instance.shop_id)


def customer_redacted_page_stale(event: Event) -> None:
    customer_page_stale(event.payload["customer_id"])


def connect() -> None:
    """Connect the receivers and the event's subscriber (from `LoyaltyConfig.ready`)."""
    from orders.events import OrderEventName
    from postpurchase import events

    for model in (*_OF_A_MEMBER, *_OF_A_SHOP, Referral, Redemption, Customer, Shop):
        name = model.__name__
        post_save.connect(_stale, sender=model, dispatch_uid=f"loyalty_page_save_{name}")
        post_delete.connect(_stale, sender=model, dispatch_uid=f"loyalty_page_delete_{name}")
    events.subscribe(
        OrderEventName.CUSTOMER_REDACTED,
        customer_redacted_page_stale,
        key="loyalty.customer_redacted.page",
    )
