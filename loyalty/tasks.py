"""Thin Celery entry points of loyalty; each calls one service and is safe to run twice."""

from celery import shared_task

# --- Rewards ------------------------------------------------------------------------------


@shared_task(soft_time_limit=60, time_limit=90)
def redemption_issue_task(redemption_id: int, attempt: int = 0) -> str:
    """Create a redemption's code (again, after a transient failure or an unknown outcome)."""
    from loyalty.rewards.issuing import redemption_issue

    return redemption_issue(redemption_id=redemption_id, attempt=attempt).status


@shared_task(soft_time_limit=240, time_limit=300)
def redemptions_settle_stuck_task() -> int:
    """Beat, every five minutes: settle redemptions still waiting for their code."""
    from loyalty.rewards.issuing import redemptions_settle_stuck

    return redemptions_settle_stuck()


@shared_task(soft_time_limit=600, time_limit=660)
def redemptions_expire_task() -> int:
    """Beat, hourly: codes unused by their end date return their points."""
    from loyalty.rewards.redemption import redemptions_expire

    return redemptions_expire()


@shared_task(soft_time_limit=60, time_limit=90)
def reward_available_notify_task(redemption_id: int) -> int:
    from loyalty.rewards.notices import reward_available_notify

    return len(reward_available_notify(redemption_id=redemption_id))


@shared_task(soft_time_limit=600, time_limit=660)
def rewards_affordable_notify_task() -> int:
    """Beat, daily: members whose points now afford a reward they have not heard of."""
    from loyalty.rewards.notices import rewards_affordable_notify

    return rewards_affordable_notify()
