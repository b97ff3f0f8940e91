"""Telling staff when a case's promise is broken: once per breach (first response, resolution).

Who hears: the case's assignee and the shop's managers and owners. The message goes by Django's
mail, as the shop's problem-report alert does (`orders.services.problems`), not through the
messaging engine: the engine is the customers' outbox (consent, quiet hours, preferences links,
the customer's message log), and a staff alert is none of those.

Each breach is claimed before it is told: the sweep locks breached cases it can get (SKIP LOCKED:
a second sweep running at the same time passes over them) and sets the breach's flag in the same
transaction; only then, outside it, is the email sent. So a breach is told at most once, even
by two sweeps at once; a mail server that refuses is logged, not retried."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from feedback.models import Case, CaseStatus
from orders.models import StaffMembership
from postpurchase import permissions

logger = logging.getLogger(__name__)
EMAIL_TIMEOUT_SECONDS = 10.0
BATCH = 200


@dataclass(frozen=True)
class Breach:
    name: str  # "first_response" or "resolution"
    label: str
    due_field: str
    flag_field: str
    still_owed: Q


BREACHES = (
    Breach(
        "first_response",
        "first response",
        "first_response_due_at",
        "first_response_breach_notified_at",
        Q(first_responded_at__isnull=True),
    ),
    Breach("resolution", "resolution", "resolution_due_at", "resolution_breach_notified_at", Q()),
)


def _claim(breach: Breach, now: datetime) -> list[int]:
    """Flag up to BATCH breached, untold open cases as told; returns their ids."""
    with transaction.atomic():
        due = (
            Case.objects.select_for_update(skip_locked=True)
            .filter(breach.still_owed, status=CaseStatus.OPEN)
            .filter(**{f"{breach.due_field}__lte": now, f"{breach.flag_field}__isnull": True})
            .order_by(breach.due_field)
        )
        ids = list(due.values_list("pk", flat=True)[:BATCH])
        Case.objects.filter(pk__in=ids).update(**{breach.flag_field: now, "updated_at": now})
    return ids


def breach_recipients(case: Case) -> list[str]:
    managers = (
        StaffMembership.objects.filter(
            shop_id=case.shop_id,
            role__in=permissions.roles_at_least(permissions.MANAGER),
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("pk")
        .values_list("user__email", flat=True)
    )
    first = [case.assignee.email] if case.assignee and case.assignee.email else []
    return list(dict.fromkeys([*first, *managers]))


def _alert(case: Case, breach: Breach) -> None:
    recipients = breach_recipients(case)
    if not recipients:
        logger.warning("case %s breached its %s: nobody to tell", case.pk, breach.label)
        return
    context = {
        "case": case,
        "breach": breach,
        "due_at": getattr(case, breach.due_field),
        "case_url": settings.PUBLIC_BASE_URL + reverse("feedback_cases:detail", args=[case.pk]),
    }
    subject = f"Case {case.number} missed its {breach.label} target"
    # Staff read the deadline in their shop's time, as the case page shows it.
    with timezone.override(case.shop.zone):
        body = render_to_string("feedback/email/case_breach.txt", context)
    EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        connection=get_connection(timeout=EMAIL_TIMEOUT_SECONDS),
    ).send()


def cases_sla_breaches_notify(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Tell staff of every breach not told yet; returns (case id, breach) for each told."""
    now = now or timezone.now()
    told = []
    for breach in BREACHES:
        ids = _claim(breach, now)
        cases = Case.objects.select_related("shop", "assignee", "customer").filter(pk__in=ids)
        for case in cases.order_by("pk"):
            try:
                _alert(case, breach)
            except Exception:
                logger.exception("case %s: the %s breach alert failed", case.pk, breach.label)
                continue
            told.append((case.pk, breach.name))
    return told
