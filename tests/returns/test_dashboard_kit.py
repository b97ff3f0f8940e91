"""The returns dashboard from the UI kit: the queue sorts by its columns (and says which with
`aria-sort`), falls back to newest first on an unknown sort; every input of the policy editor
has a label."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus, StaffRole
from returns.models import ReturnRequest, ReturnStatus
from tests.factories import CustomerFactory, OrderFactory, StaffMembershipFactory
from tests.html_dom import parse
from tests.returns.test_dashboard import delivered_line, file_return, manual_policy

pytestmark = pytest.mark.django_db

QUEUE = reverse("returns_dashboard:queue")


@pytest.fixture
def three_returns(shop):
    """Three returns whose every sortable column orders them differently from the others."""
    manual_policy(shop)
    now = timezone.now()
    made = []
    # (order number, customer last name, days ago filed, quantity, price, status)
    for number, last_name, days_ago, quantity, price, status in [
        ("#2002", "Alvarez", 3, 2, "10.00", ReturnStatus.REQUESTED),
        ("#2001", "Zhou", 1, 1, "50.00", ReturnStatus.APPROVED),
        ("#2003", "Meyer", 2, 3, "5.00", ReturnStatus.CANCELLED),
    ]:
        order = OrderFactory(
            shop=shop,
            number=number,
            customer=CustomerFactory(shop=shop, last_name=last_name, first_name="Kim"),
            status=OrderStatus.DELIVERED,
            delivered_at=now - timedelta(days=5),
        )
        line = delivered_line(shop, order=order, price=price, quantity=quantity)
        rr = file_return(line, quantity=quantity)
        ReturnRequest.objects.filter(pk=rr.pk).update(
            created_at=now - timedelta(days=days_ago), status=status
        )
        made.append(ReturnRequest.objects.get(pk=rr.pk))
    return made


def _rmas(page):
    table = page.find("table")
    return [row[1] for row in table.rows()]


def _sorted_header(page):
    return [
        (th.text(), th.get("aria-sort"))
        for th in page.find("thead").find_all("th")
        if th.get("aria-sort")
    ]


def _expected(returns, key, *, reverse=False):
    return [rr.rma for rr in sorted(returns, key=key, reverse=reverse)]


COLUMNS = {
    "rma": ("RMA", lambda rr: rr.rma),
    "order": ("Order", lambda rr: rr.order.number),
    "customer": ("Customer", lambda rr: rr.customer.last_name),
    "filed": ("Filed", lambda rr: rr.created_at),
    "state": ("Status", lambda rr: rr.status),
    "units": ("Units", lambda rr: sum(item.quantity for item in rr.items.all())),
    "value": ("Value", lambda rr: sum((item.value for item in rr.items.all()), Decimal(0))),
}


@pytest.mark.parametrize("key", list(COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_queue_sorts_by_each_sortable_column(staff_client, three_returns, key, descending):
    label, value = COLUMNS[key]
    sort = f"-{key}" if descending else key

    page = parse(staff_client.get(QUEUE, {"sort": sort}).text)

    expected = _expected(three_returns, value, reverse=descending)
    assert len(set(expected)) == 3
    assert _rmas(page) == expected
    assert _sorted_header(page) == [(label, "descending" if descending else "ascending")]


def test_queue_header_links_turn_the_sorted_column_round(staff_client, three_returns):
    page = parse(staff_client.get(QUEUE, {"sort": "rma", "status": "requested"}).text)

    links = {a.text(): a.get("href") for a in page.find("thead").find_all("a")}
    assert links["RMA"] == "?sort=-rma&status=requested"
    assert links["Filed"] == "?sort=-filed&status=requested"  # dates newest first
    assert links["Order"] == "?sort=order&status=requested"
    assert "Method" not in links  # not sortable


@pytest.mark.parametrize("sort", ["", "bogus", "-bogus", "created_at", "-order__number"])
def test_queue_unknown_sort_falls_back_to_newest_first(staff_client, three_returns, sort):
    page = parse(staff_client.get(QUEUE, {"sort": sort}).text)

    assert _rmas(page) == _expected(three_returns, COLUMNS["filed"][1], reverse=True)
    assert _sorted_header(page) == [("Filed", "descending")]


def test_queue_status_is_a_toned_chip(staff_client, three_returns):
    page = parse(staff_client.get(QUEUE).text)

    chips = {
        chip.text(): chip.classes for chip in page.find("table").find_all(class_="status-chip")
    }
    assert chips["Requested"] >= {"status-chip", "status-chip--attention"}
    assert chips["Cancelled"] >= {"status-chip", "status-chip--neutral"}
    assert not page.find_all(class_="badge")


# Policy editor -------------------------------------------------------------------------------


def _labelled(page, control):
    if control.get("aria-label") or control.get("aria-labelledby"):
        return True
    if any(node.tag == "label" for node in control.ancestors()):
        return True
    ident = control.get("id")
    return bool(ident) and any(label.get("for") == ident for label in page.find_all("label"))


@pytest.fixture
def owner_client(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user)
    return client


def test_policy_editor_labels_every_input(owner_client, shop):
    page = parse(owner_client.get(reverse("returns_dashboard:policy")).text)

    form = page.find("form", class_="returns-policy")
    controls = [
        control
        for control in form.iter()
        if control.tag in ("input", "select", "textarea")
        and control.get("type") not in ("hidden", "submit", "button")
    ]
    assert len(controls) > 40  # the whole editor, the reasons table included
    unlabelled = [control.get("name") for control in controls if not _labelled(page, control)]
    assert unlabelled == []
    # And each label names something: no empty label.
    assert all(label.text() for label in form.find_all("label"))


def test_return_page_header_names_the_return_its_order_and_status(staff_client, three_returns):
    rr = three_returns[0]

    page = parse(staff_client.get(reverse("returns_dashboard:detail", args=[rr.pk])).text)

    head = page.find(class_="page-head")
    assert head.find("h1").text() == f"Return {rr.rma}"
    assert (
        head.find("p", class_="page-head__context")
        .text()
        .startswith("Order #2002 · Drop off at a carrier point · filed ")
    )
    order_link = head.find("a", href=reverse("dashboard:order_detail", args=[rr.order_id]))
    assert order_link.text() == "Order #2002"
    assert "button--secondary" in order_link.classes  # not the page's filled button
    chip = page.find(class_="page-status").find(class_="status-chip")
    assert (chip.text(), "status-chip--attention" in chip.classes) == ("Requested", True)
    headings = [card.find("h2").text() for card in page.find_all("section", class_="card")]
    assert headings == ["Items", "Next step", "Customer", "History"]
    assert not page.find_all(class_="badge")
