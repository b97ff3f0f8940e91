"""Thin Celery entry points; each calls one service and is safe to run twice."""

from celery import Task, shared_task

from returns.services.refunds import RefundInFlight, TransientRefundError, return_refund_request


@shared_task(
    bind=True,
    autoretry_for=(TransientRefundError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def return_refund_request_task(self: Task, return_id: int) -> str:
    try:
        return return_refund_request(return_id=return_id)
    except RefundInFlight as busy:
        # Look again once that run has answered, or is surely dead (then it is held for staff).
        raise self.retry(countdown=busy.retry_after.total_seconds() + 1) from None
