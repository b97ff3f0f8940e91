"""Opening cases from signals (once each), problem reports as cases, resolutions and who may
record them, and the "did we make it right?" answer closing the loop."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from feedback.cases.services import (
    case_resolve,
    open_case_by_staff,
    open_case_for_signal,
    signal_priority,
)
from feedback.cases.tokens import followup_token, resolution_id_from_token
from feedback.models import Case, CaseMessage, CaseResolution, CaseStatus
from notifications.models import Message
from orders.models import FinancialStatus
from orders.services.problems import problem_report_create
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import CustomerFactory, OrderFactory, StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, office_shop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("source", "score", "scale", "expected"),
    [
        ("survey", 0, "nps", "high"),
        ("survey", 3, "nps", "high"),
        ("survey", 6, "nps", "normal"),
        ("survey", 7, "nps", None),
        ("survey", 10, "nps", None),
        ("survey", 1, "csat", "high"),
        ("survey", 2, "csat", "normal"),
        ("survey", 3, "csat", None),
        ("survey", 1, "ces", "high"),
        ("survey", 2, "ces", "normal"),
        ("survey", 3, "ces", None),
        ("review", 1, "stars", "high"),
        ("review", 2, "stars", "normal"),
        ("review", 3, "stars", None),
        ("text", -0.9, "sentiment", "high"),
        ("text", -0.6, "sentiment", "normal"),
        ("text", -0.2, "sentiment", None),
        ("problem_report", None, None, "high"),
    ],
)
def test_which_signals_are_unhappy_and_how_urgent(source, score, scale, expected):
    assert signal_priority(source=source, score=score, scale=scale) == expected


def test_a_detractor_answer_delivered_twice_opens_one_case():
    shop, _ = office_shop()
    customer = CustomerFactory(shop=shop)
    signal = {
        "shop": shop,
        "customer": customer,
        "source": "survey",
        "source_id": 41,
        "score": 4,
        "scale": "nps",
        "text": "Late again.",
    }

    first = open_case_for_signal(**signal)
    again = open_case_for_signal(**signal)

    assert first is not None
    assert again == first
    assert Case.objects.filter(shop=shop).count() == 1
    assert (first.source, first.source_id, first.priority) == ("survey", 41, "normal")
    assert first.summary == "NPS 4 of 10: Late again."
    assert first.events.get().to_status == CaseStatus.OPEN


def test_a_promoter_opens_no_case():
    shop, _ = office_shop()
    case = open_case_for_signal(
        shop=shop, customer=None, source="survey", source_id=1, score=9, scale="nps"
    )
    assert case is None
    assert not Case.objects.exists()


def test_text_below_the_threshold_passed_in_opens_a_case():
    shop, _ = office_shop()
    kwargs = {"shop": shop, "customer": None, "source": "text", "scale": "sentiment"}

    assert open_case_for_signal(source_id=1, score=-0.3, **kwargs) is None
    assert open_case_for_signal(source_id=2, score=-0.3, sentiment_threshold=-0.2, **kwargs)


def test_a_valuable_customer_gets_a_higher_priority():
    shop, _ = office_shop()
    customer = CustomerFactory(shop=shop)
    OrderFactory(shop=shop, customer=customer, total=Decimal("450.00"))
    OrderFactory(shop=shop, customer=customer, total=Decimal("120.00"))
    # A refunded order does not count towards what they spent.
    OrderFactory(
        shop=shop,
        customer=customer,
        total=Decimal("900.00"),
        financial_status=FinancialStatus.REFUNDED,
    )
    case = open_case_for_signal(
        shop=shop, customer=customer, source="review", source_id=3, score=2, scale="stars"
    )
    assert case is not None
    assert case.priority == "high"  # normal for a 2★, one up


def test_a_problem_report_becomes_a_case():
    shop, _ = office_shop()
    order = OrderFactory(shop=shop)

    with transaction.atomic():
        report, _ = problem_report_create(
            order=order, kind="damaged", description="The lid is cracked.", submission_key="k1"
        )
    event = DomainEvent.objects.get(name="problem_reported")
    assert event.payload == {
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "problem_report_id": report.pk,
        "kind": "damaged",
    }
    domain_event_deliver(event_id=event.pk)
    domain_event_deliver(event_id=event.pk)  # a redelivery finds the one case

    case = Case.objects.get(shop=shop)
    assert (case.source, case.source_id, case.order, case.customer) == (
        "problem_report",
        report.pk,
        order,
        order.customer,
    )
    assert case.priority == "high"
    assert case.description == "The lid is cracked."
    # Resolving the case settles the report on the order's page too.
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    case_resolve(case=case, actor=agent, kind="replacement")
    report.refresh_from_db()
    assert report.status == "resolved"
    assert report.resolved_by == agent


def test_staff_open_a_case_of_their_own():
    shop, _ = office_shop()
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    case = open_case_by_staff(
        shop=shop, actor=agent, customer=None, summary="Called about a late parcel"
    )
    assert (case.source, case.source_id, case.status) == ("staff", None, "open")


def test_an_agent_cannot_record_a_refund():
    shop, _ = office_shop()
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    case = detractor_case(shop)

    with pytest.raises(StaffPermissionDenied):
        case_resolve(case=case, actor=agent, kind="refund", amount=Decimal("20.00"))

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not CaseResolution.objects.exists()
    # An apology is theirs to record.
    case_resolve(case=case, actor=agent, kind="apology", note="Called and apologised.")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_a_manager_records_a_refund_with_its_amount():
    shop, _ = office_shop()
    manager = StaffMembershipFactory(shop=shop, role="manager").user
    case = detractor_case(shop)

    resolution = case_resolve(case=case, actor=manager, kind="refund", amount=Decimal("20.00"))

    assert (resolution.amount, resolution.currency, resolution.actor) == (
        Decimal("20.00"),
        shop.currency,
        manager,
    )


def _resolved(shop):
    manager = StaffMembershipFactory(shop=shop, role="manager").user
    case = detractor_case(shop)
    resolution = case_resolve(case=case, actor=manager, kind="replacement", note="New mug sent.")
    return case, resolution


def test_resolving_schedules_the_follow_up_two_days_later_once():
    shop, _ = office_shop()
    case, resolution = _resolved(shop)

    message = Message.objects.get(kind="case_followup")
    assert (message.about_type, message.about_id, message.channel) == (
        "case_resolution",
        resolution.pk,
        "email",
    )
    assert message.send_at - case.resolved_at == timedelta(days=2)
    token, answer = message.context["yes_url"].split("/feedback/case/")[1].strip("/").split("/")
    assert (resolution_id_from_token(token), answer) == (resolution.pk, "yes")
    assert message.context["no_url"].endswith(f"/{token}/no/")


def test_made_right_yes_closes_the_case(client):
    shop, _ = office_shop()
    case, resolution = _resolved(shop)
    url = f"/feedback/case/{followup_token(resolution.pk)}/yes/"

    first = client.get(url)
    again = client.get(url)

    assert first.status_code == again.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.made_right) == (CaseStatus.CLOSED, True)
    assert case.closed_at is not None
    assert "glad" in first.content.decode()
    assert "no-store" in first["Cache-Control"]


def test_made_right_no_reopens_the_case_with_a_note(client):
    shop, _ = office_shop()
    case, resolution = _resolved(shop)

    response = client.get(f"/feedback/case/{followup_token(resolution.pk)}/no/")
    # A later "yes" (the other button) changes nothing: the first answer stands.
    client.get(f"/feedback/case/{followup_token(resolution.pk)}/yes/")

    assert response.status_code == 200
    case.refresh_from_db()
    resolution.refresh_from_db()
    assert (case.status, case.made_right, resolution.made_right) == (
        CaseStatus.OPEN,
        False,
        False,
    )
    assert case.resolution_due_at > case.created_at
    note = CaseMessage.objects.get(case=case, channel="note")
    assert "did we make it right" in note.body


def test_a_forged_follow_up_link_is_a_404(client):
    shop, _ = office_shop()
    _, resolution = _resolved(shop)
    assert client.get(f"/feedback/case/{resolution.pk}/yes/").status_code == 404
    assert client.get(f"/feedback/case/{followup_token(resolution.pk)}/maybe/").status_code == 404
