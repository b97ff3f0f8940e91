"""Thin Celery entry points; each calls one service and is safe to run twice."""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from orders.api.idempotency import idempotency_records_purge
from orders.ingest import webhooks
from orders.models import Shop
from orders.services.affinities import product_affinities_compute
from orders.services.page_view_counts import tracking_page_views_flush
from orders.services.problems import problem_report_notify_shop

_RETRY: dict[str, Any] = {
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


# Any exception other than a permanent one (handled inside the service) is worth a retry:
# a database hiccup, a deadlock, a lock timeout.
@shared_task(autoretry_for=(Exception,), soft_time_limit=60, time_limit=90, **_RETRY)
def webhook_event_process_task(event_id: int) -> str:
    return webhooks.webhook_event_process(event_id=event_id)


@shared_task(soft_time_limit=60, time_limit=90)
def webhook_events_dispatch_task() -> int:
    return len(webhooks.webhook_events_dispatch())


@shared_task(soft_time_limit=60, time_limit=90)
def webhook_events_resume_task() -> int:
    return len(webhooks.webhook_events_resume(older_than=settings.WEBHOOK_RESUME_AFTER))


@shared_task(soft_time_limit=120, time_limit=180)
def idempotency_keys_purge_task() -> int:
    return idempotency_records_purge(older_than=timedelta(hours=24))


@shared_task(soft_time_limit=50, time_limit=60)
def tracking_page_views_flush_task() -> int:
    return tracking_page_views_flush()


# A send may fail for a moment (the provider, the network, a lock): worth a retry. The service
# marks the report once emailed, so a retry after a success sends nothing.
@shared_task(autoretry_for=(Exception,), soft_time_limit=60, time_limit=90, **_RETRY)
def problem_report_notify_shop_task(report_id: int) -> bool:
    return problem_report_notify_shop(report_id=report_id)


@shared_task(soft_time_limit=60, time_limit=90)
def product_affinities_compute_all_task() -> int:
    """Nightly: one task per active shop, so a large shop neither delays nor fails the rest."""
    shop_ids = list(Shop.objects.filter(is_active=True).values_list("pk", flat=True))
    for shop_id in shop_ids:
        product_affinities_compute_task.delay(shop_id)
    return len(shop_ids)


@shared_task(soft_time_limit=900, time_limit=960)
def product_affinities_compute_task(shop_id: int) -> int:
    return product_affinities_compute(shop_id=shop_id)
