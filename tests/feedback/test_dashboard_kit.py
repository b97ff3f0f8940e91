"""The feedback pages from the UI kit: the case and review queues sort by each sortable column
(and say which with `aria-sort`), fall back to their default on an unknown sort; the SLA, a
case's status and priority and a review's state are chips with their word and tone."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback.models import Case, CasePriority, Review, ReviewStatus
from orders.models import StaffRole
from tests.factories import StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, ny
from tests.feedback.helpers import delivered_order, review
from tests.feedback.test_case_dashboard import shop_and_cases  # noqa: F401 - a fixture
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

CASES = reverse("feedback_cases:queue")
REVIEWS = reverse("reviews_dashboard:queue")


def _sorted_header(page):
    return [
        (th.text(), th.get("aria-sort"))
        for th in page.find("thead").find_all("th")
        if th.get("aria-sort")
    ]


@pytest.fixture
def staff_client(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user)
    return client


# Cases -----------------------------------------------------------------------------------------


@pytest.fixture
def three_cases(shop):
    """Three open cases whose due time, priority and opening each order them differently."""
    now = timezone.now()
    made = {}
    # (name, priority, opened days ago, first response due in hours)
    for name, priority, days_ago, due_in in [
        ("a", CasePriority.LOW, 2, 5),
        ("b", CasePriority.URGENT, 1, 1),
        ("c", CasePriority.HIGH, 3, 9),
    ]:
        case = detractor_case(shop, source_id=ord(name))
        Case.objects.filter(pk=case.pk).update(
            priority=priority,
            created_at=now - timedelta(days=days_ago),
            first_response_due_at=now + timedelta(hours=due_in),
            resolution_due_at=now + timedelta(hours=due_in + 24),
        )
        made[name] = case
    return made


CASE_COLUMNS = {
    # key: (header, the cases in ascending order)
    "due": ("SLA", ["b", "a", "c"]),
    "priority": ("Priority", ["a", "c", "b"]),
    "opened": ("Opened", ["c", "a", "b"]),
}


def _case_numbers(response):
    return [row.case.number for row in response.context["rows"]]


@pytest.mark.parametrize("key", list(CASE_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_the_case_queue_sorts_by_each_sortable_column(staff_client, three_cases, key, descending):
    label, ascending = CASE_COLUMNS[key]
    order = list(reversed(ascending)) if descending else ascending

    response = staff_client.get(CASES, {"sort": f"-{key}" if descending else key})

    assert _case_numbers(response) == [three_cases[name].number for name in order]
    page = parse(response.text)
    assert _sorted_header(page) == [(label, "descending" if descending else "ascending")]


def test_the_case_queue_header_links_turn_the_sorted_column_round(staff_client, three_cases):
    page = parse(staff_client.get(CASES, {"sort": "due", "source": "survey"}).text)

    links = {a.text(): a.get("href") for a in page.find("thead").find_all("a")}
    assert links["SLA"] == "?sort=-due&source=survey"
    assert links["Priority"] == "?sort=-priority&source=survey"  # urgent first
    assert links["Opened"] == "?sort=-opened&source=survey"  # newest first
    assert "Customer" not in links  # not sortable


@pytest.mark.parametrize("sort", ["", "bogus", "-bogus", "next_due_at", "-priority_rank"])
def test_the_case_queue_falls_back_to_the_next_deadline_first(staff_client, three_cases, sort):
    response = staff_client.get(CASES, {"sort": sort})

    assert _case_numbers(response) == [three_cases[name].number for name in ["b", "a", "c"]]
    assert _sorted_header(parse(response.text)) == [("SLA", "ascending")]


def test_the_case_queue_shows_status_and_priority_as_toned_chips(staff_client, three_cases):
    page = parse(staff_client.get(CASES).text)

    chips = {
        chip.text(): chip.classes for chip in page.find("table").find_all(class_="status-chip")
    }
    assert chips["Urgent"] >= {"status-chip", "status-chip--critical"}
    assert chips["High"] >= {"status-chip", "status-chip--attention"}
    assert chips["Low"] >= {"status-chip", "status-chip--neutral"}
    assert chips["Open"] >= {"status-chip", "status-chip--attention"}
    assert not page.find_all(class_="badge")


def test_the_sla_state_is_a_chip_with_its_word(client, shop_and_cases):  # noqa: F811
    _, agent, cases = shop_and_cases
    client.force_login(agent)
    with time_machine.travel(ny(2026, 12, 7, 10, 30), tick=False):
        queue = parse(client.get(CASES).text)
        breached = parse(
            client.get(reverse("feedback_cases:detail", args=[cases["breached"].pk])).text
        )

    sla_chips = [
        (cell.find(class_="status-chip").text(), cell.find(class_="status-chip").classes)
        for cell in queue.find("tbody").find_all("td")
        if cell.get("data-label") == "SLA"
    ]
    tones = {word: classes - {"status-chip"} for word, classes in sla_chips}
    assert tones == {
        "Breached": {"status-chip--critical"},
        "Due soon": {"status-chip--attention"},
        "On time": {"status-chip--success"},
    }
    sla = breached.find(id="case-sla")
    assert sla.find(class_="status-chip").text() == "Breached"
    assert "status-chip--critical" in sla.find(class_="status-chip").classes
    assert "breached 30 min ago" in sla.text()


def test_the_case_page_opens_with_the_kits_header_and_forms(staff_client, three_cases):
    case = three_cases["a"]
    page = parse(staff_client.get(reverse("feedback_cases:detail", args=[case.pk])).text)

    head = page.find(class_="page-head")
    assert head.find("h1").text() == f"Case {case.number}: {case.summary}"
    assert page.find(id="case-status").find(class_="status-chip").text() == "Open"
    assert "Priority low" in [chip.text() for chip in page.find_all(class_="status-chip")]
    # The reply form's fields come from the kit: each labelled, the required one marked.
    body = page.find(id="reply-body")
    assert body is not None
    assert page.find("label", for_="reply-body").find(class_="field__required")
    for heading in ("Conversation", "Customer", "Deadlines", "Resolution", "History"):
        assert any(h.text() == heading for h in page.find_all(class_="card__title")), heading


# Reviews ---------------------------------------------------------------------------------------


@pytest.fixture
def three_reviews(shop):
    """A published, a held and a rejected review whose rating, state and submission each
    order them differently."""
    now = timezone.now()
    made = {}
    # (name, rating, state, submitted days ago)
    for name, rating, status, days_ago in [
        ("r1", 5, ReviewStatus.PUBLISHED, 1),
        ("r2", 2, ReviewStatus.HELD, 3),
        ("r3", 4, ReviewStatus.REJECTED, 4),
    ]:
        made[name] = review(delivered_order(shop), rating=rating)
        Review.objects.filter(pk=made[name].pk).update(
            status=status, submitted_at=now - timedelta(days=days_ago)
        )
    return made


REVIEW_COLUMNS = {
    "rating": ("Rating", ["r2", "r3", "r1"]),
    "status": ("State", ["r2", "r1", "r3"]),  # held, published, rejected
    "submitted": ("Submitted", ["r3", "r2", "r1"]),
}


def _review_ids(response):
    return [r.pk for r in response.context["reviews"]]


@pytest.mark.parametrize("key", list(REVIEW_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_the_review_queue_sorts_by_each_sortable_column(
    staff_client, three_reviews, key, descending
):
    label, ascending = REVIEW_COLUMNS[key]
    order = list(reversed(ascending)) if descending else ascending

    # Every state at once (the queue opens on the held ones).
    response = staff_client.get(REVIEWS, {"status": "", "sort": f"-{key}" if descending else key})

    assert _review_ids(response) == [three_reviews[name].pk for name in order]
    page = parse(response.text)
    assert _sorted_header(page) == [(label, "descending" if descending else "ascending")]


@pytest.mark.parametrize("sort", ["", "bogus", "-bogus", "submitted_at", "-product__title"])
def test_the_review_queue_falls_back_to_newest_first(staff_client, three_reviews, sort):
    response = staff_client.get(REVIEWS, {"status": "", "sort": sort})

    assert _review_ids(response) == [three_reviews[name].pk for name in ["r1", "r2", "r3"]]
    assert _sorted_header(parse(response.text)) == [("Submitted", "descending")]


def test_the_review_queue_shows_the_state_as_a_toned_chip(staff_client, three_reviews):
    page = parse(staff_client.get(REVIEWS, {"status": ""}).text)

    chips = {
        chip.text(): chip.classes for chip in page.find("table").find_all(class_="status-chip")
    }
    assert chips["Published"] >= {"status-chip", "status-chip--success"}
    assert chips["Held for review"] >= {"status-chip", "status-chip--attention"}
    assert chips["Rejected"] >= {"status-chip", "status-chip--critical"}
    assert not page.find_all(class_="badge")


def test_the_review_queue_filters_with_the_kits_bar_and_keeps_the_state_tab(
    staff_client, three_reviews
):
    page = parse(staff_client.get(REVIEWS, {"status": "held", "rating": "2"}).text)

    bar = page.find("form", role="search")
    names = {field.get("name") for field in bar.find_all("select") + bar.find_all("input")}
    assert {"q", "rating", "rule"} <= names
    # The state is the tabs' choice, kept across searches and by "Clear all".
    assert bar.find("input", type="hidden", name="status").get("value") == "held"
    chips = page.find(class_="filter-chips")
    assert "2★" in chips.text()
    assert chips.find(class_="filter-chips__clear").get("href") == f"{REVIEWS}?status=held"


def test_an_empty_filtered_review_queue_says_so_and_offers_to_clear(staff_client, three_reviews):
    page = parse(staff_client.get(REVIEWS, {"status": "", "q": "no such words"}).text)

    empty = page.find(class_="empty")
    assert empty.find("h2").text() == "No reviews match"
    assert empty.find("a").get("href") == REVIEWS
