"""The dashboard's order page and the customer's tracking page: the link as the customer sees
it, how often they looked, regenerating the link, and the problems they reported."""

import html
import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import selectors
from orders.links import tracking_page_path, tracking_page_url
from orders.models import OrderEvent, ProblemReport, ProblemStatus, StaffRole
from orders.services.problem_resolution import problem_report_resolve
from orders.services.tracking import tracking_link_renew
from postpurchase.exceptions import DomainError
from postpurchase.redis import redis_client
from tests.factories import (
    OrderEventFactory,
    OrderFactory,
    ProblemReportFactory,
    StaffMembershipFactory,
    TrackingPageViewsFactory,
)

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-jpeg-bytes\xff\xd9"


def page_url(order) -> str:
    return reverse("dashboard:order_detail", args=[order.pk])


def renew_url(order) -> str:
    return reverse("dashboard:tracking_link_renew", args=[order.pk])


def photo_url(report) -> str:
    return reverse("dashboard:problem_photo", args=[report.order_id, report.pk])


def resolve_url(report) -> str:
    return reverse("dashboard:problem_resolve", args=[report.order_id, report.pk])


def notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def section(response, section_id: str) -> str:
    """The visible words of one `<section id=...>` of the page, tags dropped, spaces squeezed."""
    body = response.content.decode()
    match = re.search(rf'<section[^>]* id="{section_id}".*?</section>', body, flags=re.S)
    assert match, section_id
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))).strip()


@pytest.fixture
def order(shop):
    return OrderFactory(shop=shop, number="#5150")


@pytest.fixture
def views_tally(order):
    """The Redis hash that holds the order's views not yet flushed to the database."""
    key = f"pp:track:views:{order.pk}"
    client = redis_client()
    client.delete(key)
    yield key
    client.delete(key)


@pytest.fixture
def outsider_client(client, other_shop):
    """Logged in as staff (a manager) of another shop only."""
    client.force_login(StaffMembershipFactory(shop=other_shop, role=StaffRole.MANAGER).user)
    return client


# The tracking link ------------------------------------------------------------------------


def test_order_page_links_to_the_tracking_page_as_the_customer_sees_it(staff_client, order):
    response = staff_client.get(page_url(order))
    body = response.content.decode()

    assert response.status_code == 200
    assert tracking_page_path(order) == f"/track/{order.tracking_token}/"
    assert f'<a href="{tracking_page_path(order)}" target="_blank" rel="noopener">' in body
    assert f'value="{tracking_page_url(order)}" readonly' in body
    assert staff_client.get(tracking_page_path(order)).status_code == 200


# Page views -------------------------------------------------------------------------------


def test_an_order_whose_page_was_never_opened_says_so(staff_client, order, views_tally):
    response = staff_client.get(page_url(order))

    assert response.context["tracking_views"] is None
    assert "Not viewed yet." in section(response, "tracking")


def test_views_show_the_stored_figures_and_those_still_in_redis(
    staff_client, shop, order, views_tally
):
    TrackingPageViewsFactory(
        order=order,
        view_count=3,
        first_viewed_at=datetime(2024, 1, 10, 2, 30, tzinfo=UTC),
        last_viewed_at=datetime(2024, 1, 12, 15, 0, tzinfo=UTC),
    )
    # Two later views the beat has not flushed yet, as `tracking_page_view_record` keeps them.
    redis_client().hset(
        views_tally,
        mapping={
            "count": 2,
            "first": datetime(2024, 1, 14, 9, 0, tzinfo=UTC).timestamp(),
            "last": datetime(2024, 1, 15, 18, 45, tzinfo=UTC).timestamp(),
            "shop": shop.pk,
        },
    )

    response = staff_client.get(page_url(order))
    panel = section(response, "tracking")

    views = response.context["tracking_views"]
    assert (views.view_count, views.pending_count) == (5, 2)
    assert views.first_viewed_at == datetime(2024, 1, 10, 2, 30, tzinfo=UTC)
    assert views.last_viewed_at == datetime(2024, 1, 15, 18, 45, tzinfo=UTC)
    # In the shop's zone (New York), as every other time on the page.
    assert "Views 5 including 2 from the last minute" in panel
    assert "First viewed Jan 9, 2024, 21:30" in panel
    assert "Last viewed Jan 15, 2024, 13:45" in panel
    assert "Not viewed yet" not in panel


def test_views_only_in_redis_are_shown_before_the_first_flush(shop, order, views_tally):
    at = datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp()
    redis_client().hset(views_tally, mapping={"count": 1, "first": at, "last": at})

    views = selectors.tracking_page_views_for_order(order=order)

    assert views is not None
    assert (views.view_count, views.pending_count) == (1, 1)
    assert views.first_viewed_at == views.last_viewed_at == datetime(2024, 3, 1, 12, tzinfo=UTC)


def test_while_redis_is_down_the_stored_views_are_shown(settings, order):
    TrackingPageViewsFactory(order=order, view_count=7)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: an outage

    views = selectors.tracking_page_views_for_order(order=order)

    assert views is not None
    assert (views.view_count, views.pending_count) == (7, 0)


# Regenerating the link --------------------------------------------------------------------


def test_regenerating_the_link_retires_the_old_one(staff_client, staff, order):
    old_path = tracking_page_path(order)
    assert staff_client.get(old_path).status_code == 200

    response = staff_client.post(renew_url(order))

    order.refresh_from_db()
    assert response.status_code == 302
    assert response.url == f"{page_url(order)}#tracking"
    assert notices(response) == [
        "Order #5150 has a new tracking link; the previous one no longer works."
    ]
    assert tracking_page_path(order) != old_path
    assert staff_client.get(old_path).status_code == 404
    assert staff_client.get(tracking_page_path(order)).status_code == 200
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.TRACKING_LINK_RENEWED)
    assert event.actor == staff
    page = staff_client.get(page_url(order))
    assert f'<a href="{tracking_page_path(order)}"' in page.content.decode()


def test_the_regenerate_button_explains_what_breaks(staff_client, order):
    panel = section(staff_client.get(page_url(order)), "tracking")

    assert "Regenerate link" in panel
    assert "stops working at once" in panel
    assert "messages already sent" in panel
    assert "order lookup" in panel


def test_an_agent_sees_the_link_but_cannot_regenerate_it(client, shop, order):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user)
    token = order.tracking_token

    page = client.get(page_url(order))
    response = client.post(renew_url(order))

    order.refresh_from_db()
    assert tracking_page_path(order) in page.content.decode()
    assert renew_url(order) not in page.content.decode()
    assert response.status_code == 403
    assert order.tracking_token == token
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.TRACKING_LINK_RENEWED).exists()


def test_regenerating_takes_a_post(staff_client, order):
    token = order.tracking_token

    response = staff_client.get(renew_url(order))

    order.refresh_from_db()
    assert response.status_code == 405
    assert order.tracking_token == token


# Another shop's staff ---------------------------------------------------------------------


def test_another_shops_staff_cannot_see_the_order_page(outsider_client, order):
    assert outsider_client.get(page_url(order)).status_code == 404


def test_another_shops_staff_cannot_regenerate_the_link(outsider_client, order):
    token = order.tracking_token

    response = outsider_client.post(renew_url(order))

    order.refresh_from_db()
    assert response.status_code == 404
    assert order.tracking_token == token
    assert not OrderEvent.objects.filter(order=order).exists()


def test_another_shops_staff_cannot_see_a_photo(outsider_client, order):
    report = ProblemReportFactory(order=order, photo=JPEG, photo_content_type="image/jpeg")

    response = outsider_client.get(photo_url(report))

    assert response.status_code == 404
    assert JPEG not in response.content


def test_another_shops_staff_cannot_resolve_a_problem(outsider_client, order):
    report = ProblemReportFactory(order=order)

    response = outsider_client.post(resolve_url(report))

    report.refresh_from_db()
    assert response.status_code == 404
    assert report.status == ProblemStatus.OPEN
    assert report.resolved_by is None


def test_a_report_is_reached_only_through_its_own_order(staff_client, shop, order):
    report = ProblemReportFactory(order=order, photo=JPEG, photo_content_type="image/jpeg")
    sibling = OrderFactory(shop=shop)
    wrong_photo = reverse("dashboard:problem_photo", args=[sibling.pk, report.pk])
    wrong_resolve = reverse("dashboard:problem_resolve", args=[sibling.pk, report.pk])

    assert staff_client.get(wrong_photo).status_code == 404
    assert staff_client.post(wrong_resolve).status_code == 404
    report.refresh_from_db()
    assert report.status == ProblemStatus.OPEN


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_new_pages_need_a_login(client, order, method):
    report = ProblemReportFactory(order=order, photo=JPEG, photo_content_type="image/jpeg")
    url = photo_url(report) if method == "get" else resolve_url(report)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# Reported problems ------------------------------------------------------------------------


def test_reported_problems_are_listed_newest_first_with_their_details(staff_client, order):
    older = ProblemReportFactory(order=order, kind="not_received", description="Nothing came.")
    newer = ProblemReportFactory(
        order=order,
        kind="damaged",
        description="The lid arrived <b>cracked</b>.",
        photo=JPEG,
        photo_content_type="image/jpeg",
    )
    ProblemReport.objects.filter(pk=older.pk).update(
        created_at=datetime(2024, 2, 1, 4, 0, tzinfo=UTC)
    )
    ProblemReport.objects.filter(pk=newer.pk).update(
        created_at=datetime(2024, 2, 3, 16, 5, tzinfo=UTC)
    )

    response = staff_client.get(page_url(order))
    panel = section(response, "problems")
    body = response.content.decode()

    assert [r.pk for r in response.context["problem_reports"]] == [newer.pk, older.pk]
    assert panel.index("Damaged") < panel.index("Not received")
    assert "Reported Feb 3, 2024, 11:05" in panel
    assert "Reported Jan 31, 2024, 23:00" in panel
    assert "The lid arrived <b>cracked</b>." in panel  # the customer's text, escaped
    assert "&lt;b&gt;cracked&lt;/b&gt;" in body
    assert "Nothing came." in panel
    assert f'<img src="{photo_url(newer)}"' in body
    assert photo_url(older) not in body
    assert body.count("Mark resolved<") == 2


def test_an_order_without_reports_says_so(staff_client, order):
    panel = section(staff_client.get(page_url(order)), "problems")

    assert "The customer has not reported a problem with this order." in panel


def test_the_photo_is_served_to_the_shops_staff_as_stored(staff_client, order):
    report = ProblemReportFactory(order=order, photo=JPEG, photo_content_type="image/jpeg")

    response = staff_client.get(photo_url(report))

    assert response.status_code == 200
    assert response.content == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


def test_a_report_without_a_photo_has_no_photo_page(staff_client, order):
    report = ProblemReportFactory(order=order)

    assert staff_client.get(photo_url(report)).status_code == 404


def test_a_stored_type_that_is_not_an_image_is_never_shown_inline(staff_client, order):
    report = ProblemReportFactory(
        order=order, photo=b"<script>alert(1)</script>", photo_content_type="text/html"
    )

    response = staff_client.get(photo_url(report))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_marking_a_problem_resolved(staff_client, staff, order):
    report = ProblemReportFactory(order=order, kind="wrong_item")

    response = staff_client.post(resolve_url(report))

    report.refresh_from_db()
    assert response.status_code == 302
    assert response.url == f"{page_url(order)}#problems"
    assert notices(response) == ["Marked resolved: Wrong item."]
    assert report.status == ProblemStatus.RESOLVED
    assert report.resolved_by == staff
    assert report.resolved_at is not None
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.note, event.actor) == (
        OrderEvent.Kind.NOTE,
        "Problem resolved: Wrong item",
        staff,
    )
    page = staff_client.get(page_url(order))
    assert "Mark resolved<" not in page.content.decode()
    assert "Resolved" in section(page, "problems")


def test_resolving_twice_shows_an_error_and_changes_nothing(staff_client, order):
    report = ProblemReportFactory(order=order)
    staff_client.post(resolve_url(report), follow=True)  # the page shows (and uses up) its notice
    report.refresh_from_db()
    first = (report.resolved_at, report.resolved_by_id, report.updated_at)

    response = staff_client.post(resolve_url(report))

    report.refresh_from_db()
    assert response.status_code == 302
    assert notices(response) == ["This problem was already marked resolved."]
    assert (report.resolved_at, report.resolved_by_id, report.updated_at) == first
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_the_resolve_service_refuses_a_resolved_report(staff, order):
    report = ProblemReportFactory(order=order)
    problem_report_resolve(report=report, actor=staff)

    with pytest.raises(DomainError):
        problem_report_resolve(report=report, actor=None)

    report.refresh_from_db()
    assert report.resolved_by == staff
    assert OrderEvent.objects.filter(order=order).count() == 1


# Timeline and cost ------------------------------------------------------------------------


def test_the_timeline_reads_reported_problems_and_renewed_links(staff_client, staff, order):
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.PROBLEM_REPORTED,
        note="The box was wet.",
        data={"kind": "damaged"},
        at=datetime(2024, 4, 1, 12, 0, tzinfo=UTC),
    )
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.PROBLEM_REPORTED,
        note="Wrong item",
        data={"kind": "wrong_item"},
        at=datetime(2024, 4, 1, 12, 30, tzinfo=UTC),
    )
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.PROBLEM_REPORTED,
        note="",
        at=datetime(2024, 4, 1, 13, 0, tzinfo=UTC),
    )
    tracking_link_renew(order=order, actor=staff)

    response = staff_client.get(page_url(order))

    entries = [(entry.title, entry.detail) for entry in response.context["timeline"]]
    assert entries == [
        ("Customer reported a problem: Damaged", "The box was wet."),
        ("Customer reported a problem: Wrong item", ""),  # not "Wrong item" twice
        ("Customer reported a problem", ""),
        ("Tracking link regenerated", "The previous tracking link no longer works."),
    ]
    body = response.content.decode()
    assert "The box was wet." in body
    assert "The previous tracking link no longer works." in body
    assert f"by {staff.get_username()}" in body


def test_the_order_page_costs_the_same_with_one_report_or_five(
    staff_client, shop, django_assert_max_num_queries
):
    def count_queries(order) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(page_url(order))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def order_with(reports: int):
        order = OrderFactory(shop=shop)
        TrackingPageViewsFactory(order=order)
        resolver = StaffMembershipFactory(shop=shop).user
        for n in range(reports):
            ProblemReportFactory(
                order=order,
                photo=JPEG,
                photo_content_type="image/jpeg",
                status=ProblemStatus.RESOLVED if n % 2 else ProblemStatus.OPEN,
                resolved_at=timezone.now() if n % 2 else None,
                resolved_by=resolver if n % 2 else None,
            )
        return order

    one = count_queries(order_with(1))
    busy = order_with(5)
    with django_assert_max_num_queries(one):
        five = count_queries(busy)

    assert five == one
