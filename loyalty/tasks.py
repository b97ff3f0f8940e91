"""Thin Celery entry points of loyalty's periodic work (beat: `CELERY_BEAT_SCHEDULE`); each
calls one service and is safe to run twice."""

from celery import shared_task

from loyalty.earning.expiry import expiry_reminders_send, lots_expire_due
from loyalty.earning.ledger_check import ledger_check
from loyalty.earning.orders import earnings_confirm_due
from loyalty.occasions.services import occasions_award_due


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
