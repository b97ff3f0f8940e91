"""Thin Celery entry points of feedback; each is safe to run twice."""

from celery import shared_task

from feedback.surveys.reminders import survey_reminders_schedule
from feedback.surveys.services import survey_requests_refresh


@shared_task(soft_time_limit=300, time_limit=360)
def survey_reminders_schedule_task() -> int:
    """Mirror the survey messages' sending and opening, then schedule the reminders owed."""
    return len(survey_reminders_schedule())


@shared_task(soft_time_limit=120, time_limit=150)
def survey_requests_refresh_task() -> int:
    return survey_requests_refresh()
