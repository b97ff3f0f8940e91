"""Thin Celery entry points of feedback: they only call services."""

from celery import shared_task

from feedback.cases.breaches import cases_sla_breaches_notify


@shared_task(soft_time_limit=240, time_limit=300)
def cases_sla_breaches_notify_task() -> int:
    """Beat, every five minutes: tell staff of each SLA breach once."""
    return len(cases_sla_breaches_notify())
