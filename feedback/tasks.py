"""Thin Celery entry points of feedback; each calls one service and is safe to run twice."""

from celery import shared_task

from feedback.analysis.services import shop_texts_analyse, shops_with_texts
from feedback.cases.breaches import cases_sla_breaches_notify
from feedback.surveys.reminders import survey_reminders_schedule
from feedback.surveys.services import survey_requests_refresh
from postpurchase.queue import enqueue_on_commit


@shared_task(soft_time_limit=300, time_limit=360)
def survey_reminders_schedule_task() -> int:
    """Mirror the survey messages' sending and opening, then schedule the reminders owed."""
    return len(survey_reminders_schedule())


@shared_task(soft_time_limit=120, time_limit=150)
def survey_requests_refresh_task() -> int:
    return survey_requests_refresh()


@shared_task(soft_time_limit=60, time_limit=90)
def texts_analyse_nightly_task() -> int:
    """Beat, nightly: one analysis round per shop with texts, each its own task."""
    shop_ids = shops_with_texts()
    for shop_id in shop_ids:
        enqueue_on_commit("feedback.tasks.shop_texts_analyse_task", shop_id)
    return len(shop_ids)


# A large shop's round (100,000 texts take well under a minute) with room to spare.
@shared_task(soft_time_limit=900, time_limit=960)
def shop_texts_analyse_task(shop_id: int) -> dict[str, object]:
    return shop_texts_analyse(shop_id=shop_id).as_dict()


@shared_task(soft_time_limit=240, time_limit=300)
def cases_sla_breaches_notify_task() -> int:
    """Beat, every five minutes: tell staff of each SLA breach once."""
    return len(cases_sla_breaches_notify())


@shared_task(soft_time_limit=240, time_limit=300)
def feedback_rollups_recent_task() -> int:
    """Beat, every ten minutes: recount every shop's last few days of feedback."""
    from feedback.numbers.rollups import rollups_recent_refresh

    return rollups_recent_refresh()


@shared_task(soft_time_limit=1800, time_limit=1900)
def feedback_rollups_nightly_task() -> int:
    """Beat, nightly: recount the last 40 days (reviews moderated late, "made right" answers)."""
    from feedback.numbers.rollups import NIGHTLY_DAYS, rollups_recent_refresh

    return rollups_recent_refresh(days=NIGHTLY_DAYS)
