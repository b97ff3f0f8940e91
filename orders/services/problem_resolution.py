"""Staff's hand on the problems customers report from the tracking page: marking one resolved."""

from django.db import transaction
from django.utils import timezone

from orders.models import OrderEvent, ProblemReport, ProblemStatus
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor


@transaction.atomic
def problem_report_resolve(*, report: ProblemReport, actor: Actor) -> ProblemReport:
    """Mark an open report resolved and note it on the order's timeline. A report already
    resolved (two staff clicking at once, or a stale page) raises DomainError, nothing changed."""
    staff_permission_require(actor=actor, shop_id=report.shop_id, action=permissions.CASE_HANDLE)
    # The photo's bytes are not needed to change the status; leave them in the database.
    report = ProblemReport.objects.select_for_update().defer("photo").get(pk=report.pk)
    if report.status != ProblemStatus.OPEN:
        raise DomainError("This problem was already marked resolved.")
    report.status = ProblemStatus.RESOLVED
    report.resolved_at = timezone.now()
    report.resolved_by = actor
    report.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
    OrderEvent.objects.create(
        shop_id=report.shop_id,
        order_id=report.order_id,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        note=f"Problem resolved: {report.get_kind_display()}",
        data={"problem_report_id": report.pk},
    )
    return report
