"""Creating a redemption's code, and settling the redemption from what came of it.

A redemption starts `reserved` (its points, if any, held on the member's row) and ends
`issued` (the points booked as spent) or `failed` (the points released). The code is created
in Shopify when the shop is connected, limited to the customer, one use, until the end date;
otherwise it is a code the shop enters in its own checkout and is issued at once.

Shopify's three kinds of failure decide the next step:
- transient (nothing was created): ask again later, with a growing delay;
- refused: the redemption failed and its points are released;
- outcome unknown (Shopify may have created it): never released blindly. The code is looked
  up by itself first; found, it is issued; not found, creation is asked again (codes are unique
  in a shop, so asking again can never make two).
A redemption still `reserved` after the retries is settled by the sweep
(`redemptions_settle_stuck`): the code found is issued, not found is released.

No transaction is open across a call to Shopify: a caller inside one gets the call after its
commit, in a task."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from loyalty.ledger import Booking, entry_book, points_release
from loyalty.models import EntryKind, Redemption, RedemptionStatus, RewardKind, Subject
from orders.models import Shop
from orders.shopify_admin import (
    DiscountCodeResult,
    DiscountKind,
    ShopifyAdminError,
    ShopifyOutcomeUnknown,
    ShopifyRefused,
    ShopifyTransientError,
    discount_code_create,
    discount_code_delete,
    discount_code_find,
    is_connected,
)
from postpurchase.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

REDEMPTION_TRANSITIONS: dict[str, set[str]] = {
    RedemptionStatus.RESERVED: {RedemptionStatus.ISSUED, RedemptionStatus.FAILED},
    RedemptionStatus.ISSUED: {RedemptionStatus.USED, RedemptionStatus.EXPIRED},
}
# Seconds before each new attempt after a transient failure or an unknown outcome; after the
# last, the sweep settles the redemption (`STUCK_AFTER` is longer than their sum).
RETRY_COUNTDOWNS = (10, 30, 90, 270)
STUCK_AFTER = timedelta(minutes=10)
ISSUE_TASK = "loyalty.tasks.redemption_issue_task"
SWEEP_BATCH = 200


def redemption_status_move(redemption: Redemption, to: str, fields: tuple[str, ...] = ()) -> None:
    """Change the status of a locked redemption as the table allows."""
    if to not in REDEMPTION_TRANSITIONS.get(redemption.status, set()):
        raise ValueError(f"a redemption cannot go from {redemption.status} to {to}")
    redemption.status = to
    redemption.save(update_fields=["status", "updated_at", *fields])


def _discount_kind(kind: str) -> DiscountKind:
    kinds: dict[str, DiscountKind] = {
        RewardKind.AMOUNT_OFF: "amount_off",
        RewardKind.PERCENT_OFF: "percent_off",
        RewardKind.FREE_PRODUCT: "free_product",
        RewardKind.FREE_SHIPPING: "free_shipping",
    }
    return kinds[kind]


def _free_product_value(redemption: Redemption) -> Decimal | None:
    """What frees one unit: the reward's value when staff set one, else the dearest variant."""
    reward = redemption.reward
    if reward.value > 0:
        return reward.value
    if reward.product is None:
        return None
    prices = [variant.price for variant in reward.product.variants.all()]
    return max(prices) if prices else None


def _platform_create(redemption: Redemption) -> DiscountCodeResult:
    reward, shop = redemption.reward, redemption.shop
    customer_id = redemption.customer.external_id
    if not customer_id:
        raise ShopifyRefused("the customer is not known to Shopify, so no code can be theirs")
    kind = _discount_kind(reward.kind)
    value = _free_product_value(redemption) if kind == "free_product" else reward.value
    return discount_code_create(
        shop,
        code=redemption.code,
        title=f"{reward.name} ({redemption.code})",
        kind=kind,
        value=None if kind == "free_shipping" else value,
        customer_external_id=customer_id,
        starts_at=redemption.created_at,
        ends_at=redemption.ends_at,
        product_external_id=reward.product.external_id if reward.product else None,
    )


def redemption_issue_soon(*, redemption_id: int) -> Redemption:
    """Issue a new redemption's code: a shop's own code at once; a Shopify code now when no
    transaction is open, else after the caller's commit, in a task (never a lock held across
    a call to Shopify)."""
    redemption = Redemption.objects.select_related("shop").get(pk=redemption_id)
    if redemption.status != RedemptionStatus.RESERVED:
        return redemption
    if not is_connected(redemption.shop):
        return _settle_issued(redemption_id, discount_id="")
    if transaction.get_connection().in_atomic_block:
        enqueue_on_commit(ISSUE_TASK, redemption_id, 0)
        return redemption
    return redemption_issue(redemption_id=redemption_id)


def redemption_issue(*, redemption_id: int, attempt: int = 0) -> Redemption:
    """Create the redemption's code and settle it; called outside any transaction (a task, or
    `redemption_issue_soon`). Safe to call again: only a `reserved` redemption is worked on,
    and a later attempt looks the code up before creating it."""
    redemption = Redemption.objects.select_related("shop", "customer", "reward__product").get(
        pk=redemption_id
    )
    if redemption.status != RedemptionStatus.RESERVED:
        return redemption
    shop = redemption.shop
    if not is_connected(shop):
        return _settle_issued(redemption_id, discount_id="")
    try:
        if attempt > 0:
            found = discount_code_find(shop, redemption.code)
            if found is not None:
                return _settle_issued(redemption_id, discount_id=found.id)
        created = _platform_create(redemption)
    except ShopifyTransientError as error:
        return _retry_later(redemption, attempt, f"not created yet: {error}")
    except (ShopifyRefused, ValueError) as error:
        return _settle_failed(redemption_id, reason=str(error))
    except ShopifyOutcomeUnknown as error:
        return _outcome_unknown(redemption, attempt, error)
    return _settle_issued(redemption_id, discount_id=created.id)


def _outcome_unknown(
    redemption: Redemption, attempt: int, error: ShopifyOutcomeUnknown
) -> Redemption:
    try:
        found = discount_code_find(redemption.shop, redemption.code)
    except ShopifyAdminError as lookup_error:
        return _retry_later(redemption, attempt, f"{error}; lookup failed: {lookup_error}")
    if found is not None:
        return _settle_issued(redemption.pk, discount_id=found.id)
    # Not there (yet): asking again with the same code cannot create a second discount.
    return _retry_later(redemption, attempt, f"{error}; not found by its code")


def _retry_later(redemption: Redemption, attempt: int, reason: str) -> Redemption:
    """Keep the points held and try again later; past the last attempt, the sweep decides."""
    Redemption.objects.filter(pk=redemption.pk, status=RedemptionStatus.RESERVED).update(
        failure_reason=reason[:500], updated_at=timezone.now()
    )
    if attempt < len(RETRY_COUNTDOWNS):
        enqueue_on_commit(
            ISSUE_TASK, redemption.pk, attempt + 1, countdown=RETRY_COUNTDOWNS[attempt]
        )
    redemption.failure_reason = reason[:500]
    return redemption


def _settle_issued(redemption_id: int, *, discount_id: str) -> Redemption:
    """Book the points as spent and mark the code issued, once. A code created for a
    redemption settled meanwhile (the sweep released it) is deleted again."""
    orphan = False
    with transaction.atomic():
        redemption = (
            Redemption.objects.select_for_update().select_related("reward").get(pk=redemption_id)
        )
        if redemption.status != RedemptionStatus.RESERVED:
            orphan = bool(discount_id) and redemption.platform_discount_id != discount_id
        else:
            if redemption.points and redemption.member_id is not None:
                entry_book(
                    redemption.member_id,
                    Booking(
                        kind=EntryKind.REDEEM,
                        key=f"redeem:{redemption.pk}",
                        subject=Subject.REDEMPTION,
                        subject_id=redemption.pk,
                        available=-redemption.points,
                        release_reserved=redemption.points,
                        reason=redemption.reward.name[:300],
                    ),
                )
            redemption.platform_discount_id = discount_id
            redemption.issued_at = timezone.now()
            redemption.failure_reason = ""
            redemption_status_move(
                redemption,
                RedemptionStatus.ISSUED,
                ("platform_discount_id", "issued_at", "failure_reason"),
            )
            if not redemption.points:
                # A granted code: the customer hears of it (one bought is shown at once).
                enqueue_on_commit("loyalty.tasks.reward_available_notify_task", redemption.pk)
    if orphan:
        platform_discount_delete(shop_id=redemption.shop_id, discount_id=discount_id)
    return redemption


def _settle_failed(redemption_id: int, *, reason: str) -> Redemption:
    """Release the held points and record why the code could not be created, once."""
    with transaction.atomic():
        redemption = Redemption.objects.select_for_update().get(pk=redemption_id)
        if redemption.status != RedemptionStatus.RESERVED:
            return redemption
        if redemption.points and redemption.member_id is not None:
            points_release(redemption.member_id, redemption.points)
        redemption.failure_reason = reason[:500]
        redemption_status_move(redemption, RedemptionStatus.FAILED, ("failure_reason",))
    logger.warning("reward code %s could not be created: %s", redemption.pk, reason)
    return redemption


def platform_discount_delete(*, shop_id: int, discount_id: str) -> bool:
    """Delete a code in Shopify, best effort (an expired or orphaned code): True when gone."""
    shop = Shop.objects.get(pk=shop_id)
    if not discount_id or not is_connected(shop):
        return False
    try:
        discount_code_delete(shop, discount_id)
    except ShopifyAdminError as error:
        logger.warning(
            "could not delete the discount %s of shop %s: %s", discount_id, shop_id, error
        )
        return False
    return True


def redemptions_settle_stuck(*, now: datetime | None = None) -> int:
    """Settle redemptions still `reserved` well after they were asked for (their tasks lost,
    or out of retries): a code Shopify has is issued and booked, one it has not is released.
    A lookup that fails for now leaves the redemption for the next run; one Shopify refuses
    releases it. Returns how many settled."""
    now = now or timezone.now()
    stuck = Redemption.objects.filter(
        status=RedemptionStatus.RESERVED, created_at__lt=now - STUCK_AFTER
    ).select_related("shop")
    settled = 0
    # A bounded batch: each may cost a call to Shopify; the next run takes the rest.
    for redemption in list(stuck.order_by("created_at")[:SWEEP_BATCH]):
        if not is_connected(redemption.shop):
            _settle_issued(redemption.pk, discount_id="")
            settled += 1
            continue
        try:
            found = discount_code_find(redemption.shop, redemption.code)
        except ShopifyRefused as error:
            # Shopify will not say (the token revoked): the code cannot be shown to the customer
            # either way, so the points go back.
            _settle_failed(redemption.pk, reason=f"the code could not be looked up: {error}")
            settled += 1
            continue
        except ShopifyAdminError as error:
            logger.warning("redemption %s: code lookup failed: %s", redemption.pk, error)
            continue
        if found is not None:
            _settle_issued(redemption.pk, discount_id=found.id)
        else:
            reason = redemption.failure_reason or "the code was never created"
            _settle_failed(redemption.pk, reason=f"{reason} (settled by the sweep)")
        settled += 1
    return settled
