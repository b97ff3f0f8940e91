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
