"""Thin Celery entry points of loyalty's periodic work (beat: `CELERY_BEAT_SCHEDULE`) and of its
work after a commit; each calls one service and is safe to run twice."""

from celery import shared_task

from loyalty.earning.expiry import expiry_reminders_send, lots_expire_due
from loyalty.earning.ledger_check import ledger_check
from loyalty.earning.orders import earnings_confirm_due
from loyalty.occasions.services import occasions_award_due
from loyalty.rewards.issuing import redemption_issue, redemptions_settle_stuck
from loyalty.rewards.notices import reward_available_notify, rewards_affordable_notify
from loyalty.rewards.redemption import redemptions_expire
from orders.shopify_admin import ShopifyTransientError


@shared_task(soft_time_limit=240, time_limit=300)
def earnings_confirm_due_task() -> int:
    return earnings_confirm_due()


@shared_task(soft_time_limit=240, time_limit=300)
def occasions_award_due_task() -> int:
    return occasions_award_due()


@shared_task(soft_time_limit=240, time_limit=300)
def lots_expire_due_task() -> int:
    return lots_expire_due()


@shared_task(soft_time_limit=240, time_limit=300)
def expiry_reminders_send_task() -> int:
    return expiry_reminders_send()


@shared_task(soft_time_limit=900, time_limit=1000)
def ledger_check_task() -> int:
    return ledger_check().pk


# --- Tiers and referrals -----------------------------------------------------------------


@shared_task(soft_time_limit=60, time_limit=90)
def customer_tier_recompute_task(shop_id: int, customer_id: int) -> bool:
    """After a paid, refunded or cancelled order, a resolved return, or points earned at once
    under a points-based tier (after the commit that booked the points, so the tier counts
    them)."""
    from loyalty.tiers.services import customer_tier_recompute

    return customer_tier_recompute(shop_id=shop_id, customer_id=customer_id) is not None


@shared_task(soft_time_limit=1800, time_limit=1900)
def members_tier_recompute_task() -> int:
    """Beat, nightly: the yearly reviews that fell due and the members whose orders left the
    12-month window."""
    from django.utils import timezone

    from loyalty.tiers.services import members_due_for_recompute, members_tier_recompute

    now = timezone.now()
    return members_tier_recompute(member_ids=members_due_for_recompute(now=now), now=now)


@shared_task(
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(ShopifyTransientError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def member_tier_tags_push_task(member_id: int) -> str:
    """After a tier change: the early-access tag in Shopify follows the member's tier."""
    from loyalty.tiers.perks import member_tier_tags_push

    return member_tier_tags_push(member_id=member_id)


@shared_task(soft_time_limit=60, time_limit=90)
def member_free_shipping_grant_task(member_id: int) -> bool:
    """After a move into a tier with quarterly free shipping: this quarter's code at once."""
    from loyalty.tiers.perks import member_free_shipping_grant

    return member_free_shipping_grant(member_id=member_id) is not None


@shared_task(soft_time_limit=1800, time_limit=1900)
def members_free_shipping_grant_task() -> int:
    """Beat, daily: each quarter's free-shipping code for members whose tier gives one."""
    from loyalty.tiers.perks import members_free_shipping_grant

    return members_free_shipping_grant()


@shared_task(soft_time_limit=600, time_limit=660)
def referrals_confirm_due_task() -> int:
    """Beat, hourly: referrers whose friend's first order is past its return window."""
    from loyalty.referrals.services import referrals_confirm_due

    return referrals_confirm_due()


# --- end of tiers and referrals ---


# --- Rewards ------------------------------------------------------------------------------


@shared_task(soft_time_limit=60, time_limit=90)
def redemption_issue_task(redemption_id: int, attempt: int = 0) -> str:
    """Create a redemption's code (again, after a transient failure or an unknown outcome)."""
    return redemption_issue(redemption_id=redemption_id, attempt=attempt).status


@shared_task(soft_time_limit=240, time_limit=300)
def redemptions_settle_stuck_task() -> int:
    """Beat, every five minutes: settle redemptions still waiting for their code."""
    return redemptions_settle_stuck()


@shared_task(soft_time_limit=600, time_limit=660)
def redemptions_expire_task() -> int:
    """Beat, hourly: codes unused by their end date return their points."""
    return redemptions_expire()


@shared_task(soft_time_limit=60, time_limit=90)
def reward_available_notify_task(redemption_id: int) -> int:
    return len(reward_available_notify(redemption_id=redemption_id))


@shared_task(soft_time_limit=600, time_limit=660)
def rewards_affordable_notify_task() -> int:
    """Beat, daily: members whose points now afford a reward they have not heard of."""
    return rewards_affordable_notify()
