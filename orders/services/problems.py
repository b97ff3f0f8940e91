"""Problems customers report from the tracking page: the case, its place on the order's
timeline, and the email that tells the shop."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from orders.events import OrderEventName
from orders.models import (
    Order,
    OrderEvent,
    ProblemKind,
    ProblemReport,
    Shipment,
    Shop,
    StaffMembership,
)
from postpurchase import events, permissions
from postpurchase.exceptions import DomainError
from postpurchase.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

DESCRIPTION_MAX_LENGTH = 2000
# An explicit timeout for the one send, whatever the backend's global default.
EMAIL_TIMEOUT_SECONDS = 10.0
# A claim to send a report's email outlives any run (the task's hard limit is 90 s): one
# still held after this was left by a run that died.
NOTIFY_CLAIM_SECONDS = 120
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def problem_report_create(
    *,
    order: Order,
    kind: str,
    description: str,
    shipment: Shipment | None = None,
    photo: bytes | None = None,
    photo_content_type: str = "",
    submission_key: str,
) -> tuple[ProblemReport, bool]:
    """Open a case on the order and put it on the order's timeline; the shop is emailed after
    commit. Returns (report, created): a second submit of the same form finds the first report
    and creates nothing."""
    description = description.strip()
    if kind not in ProblemKind.values:
        raise DomainError(f"Unknown problem kind '{kind}'.")
    if not description or len(description) > DESCRIPTION_MAX_LENGTH:
        raise DomainError("Describe the problem in at most 2000 characters.")
    if shipment is not None and shipment.order_id != order.pk:
        raise DomainError("That parcel is not part of this order.")
    if photo and photo_content_type not in _PHOTO_EXTENSIONS:
        raise DomainError("The photo must be a JPEG, PNG or WebP image.")
    with transaction.atomic():
        # Submits of one order's form queue here, so a double submit finds the first report
        # instead of failing on the unique key.
        Order.objects.select_for_update().only("pk").get(pk=order.pk)
        existing = ProblemReport.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            if existing.order_id != order.pk:
                raise DomainError("This form was already used for another order.")
            return existing, False
        report = ProblemReport.objects.create(
            shop_id=order.shop_id,
            order=order,
            shipment=shipment,
            kind=kind,
            description=description,
            photo=photo or None,
            photo_content_type=photo_content_type if photo else "",
            submission_key=submission_key,
        )
        OrderEvent.objects.create(
            shop_id=order.shop_id,
            order=order,
            kind=OrderEvent.Kind.PROBLEM_REPORTED,
            note=ProblemKind(kind).label,
            data={"problem_report_id": report.pk, "kind": kind},
        )
        # Ids and the kind only: a subscriber reads the customer's words from the report.
        events.publish(
            name=OrderEventName.PROBLEM_REPORTED,
            shop_id=order.shop_id,
            order_id=order.pk,
            customer_id=order.customer_id,
            problem_report_id=report.pk,
            kind=kind,
        )
        enqueue_on_commit("orders.tasks.problem_report_notify_shop_task", report.pk)
    return report, True


def problem_report_recipients(*, shop: Shop) -> list[str]:
    """Who hears of a new problem: the shop's support address, else its owners and managers."""
    if shop.support_email:
        return [shop.support_email]
    emails = (
        StaffMembership.objects.filter(
            shop=shop,
            role__in=permissions.roles_at_least(permissions.MANAGER),
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("pk")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(emails))


def _shop_language(locale: str) -> str:
    try:
        return translation.get_supported_language_variant(translation.to_language(locale or "en"))
    except LookupError:
        return settings.LANGUAGE_CODE


def _problem_email(report: ProblemReport, recipients: list[str]) -> EmailMultiAlternatives:
    order = report.order
    zone = report.shop.zone
    context = {
        "zone_name": str(zone),
        "report": report,
        "order": order,
        "shop": report.shop,
        "kind_label": ProblemKind(report.kind).label,
        "shipment": report.shipment,
        "dashboard_url": settings.PUBLIC_BASE_URL
        + reverse("dashboard:order_detail", args=[order.pk]),
    }
    language = _shop_language(report.shop.locale)
    with translation.override(language), timezone.override(zone):
        subject = render_to_string("orders/email/problem_reported_subject.txt", context)
        body = render_to_string("orders/email/problem_reported.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        # The shop answers the customer straight from its mailbox.
        reply_to=[order.email] if order.email else None,
        connection=get_connection(timeout=EMAIL_TIMEOUT_SECONDS),
    )
    if report.photo:
        extension = _PHOTO_EXTENSIONS.get(report.photo_content_type, "bin")
        message.attach(
            f"problem-{report.pk}.{extension}", bytes(report.photo), report.photo_content_type
        )
    return message


def problem_report_notify_shop(*, report_id: int) -> bool:
    """Email the shop about a new problem, once; True when this call sent it.

    No row is locked while the mail server answers. A claim in the cache keeps a concurrent
    run (a redelivered task) from sending it too; the report is marked notified once the email
    is out. A failed send gives the claim back and the task retries. A run that dies mid-send
    leaves its claim to expire, and the retry after it sends again: the shop may hear of a
    problem twice, never not at all."""
    report = _report_to_notify(report_id)
    if report is None:
        return False
    recipients = problem_report_recipients(shop=report.shop)
    if not recipients:
        logger.warning("problem report %s: shop %s has no address", report.pk, report.shop_id)
        return False
    claim = f"problem-report-notify:{report.pk}"
    if not cache.add(claim, 1, timeout=NOTIFY_CLAIM_SECONDS):
        return False  # another run is sending it now
    try:
        # Read again under the claim: a run that sent it just before marks it, then lets go.
        if _report_to_notify(report_id) is None:
            return False
        _problem_email(report, recipients).send()
        now = timezone.now()
        ProblemReport.objects.filter(pk=report.pk, shop_notified_at__isnull=True).update(
            shop_notified_at=now, updated_at=now
        )
    finally:
        cache.delete(claim)
    return True


def _report_to_notify(report_id: int) -> ProblemReport | None:
    return (
        ProblemReport.objects.select_related("order", "shop", "shipment")
        .filter(pk=report_id, shop_notified_at__isnull=True)
        .first()
    )
