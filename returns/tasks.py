"""Thin Celery entry points; each calls one service and is safe to run twice."""

from celery import shared_task

from returns.services.refunds import TransientRefundError, return_refund_request


@shared_task(
    autoretry_for=(TransientRefundError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def return_refund_request_task(return_id: int) -> str:
    return return_refund_request(return_id=return_id)
