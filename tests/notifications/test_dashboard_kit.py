"""The message dashboard's pages are built from the UI kit: its chips, header, filter bar and
pagination."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow, MessageStatus
from tests.factories import CustomerFactory
from tests.html_dom import parse
from tests.notifications.test_dashboard import _message
from tests.notifications.test_templates import save as save_template


def test_a_message_state_is_a_chip_of_its_tone_with_its_word(staff_client, shop):
    _message(shop, status=MessageStatus.HELD)
    _message(shop, status=MessageStatus.FAILED)

    html = staff_client.get(reverse("messaging:message_list")).content.decode()

    assert 'status-chip--attention">Held for review</span>' in html
    assert 'status-chip--critical">Failed</span>' in html


def test_the_message_log_shows_a_removable_chip_for_the_channel_filter(staff_client, shop):
    _message(shop, channel="sms", recipient="+14155550100")

    html = staff_client.get(reverse("messaging:message_list") + "?channel=sms&page=1").content
    page = html.decode()

    path = reverse("messaging:message_list")
    assert "Channel: SMS" in page
    assert f'href="{path}?"><span aria-hidden="true">×</span>' in page  # drops it and the page
    assert f'href="{path}">Clear all</a>' in page


def test_a_customer_page_links_to_all_their_messages_from_its_header(staff_client, shop):
    customer = CustomerFactory(shop=shop)

    html = staff_client.get(reverse("messaging:customer_detail", args=[customer.pk])).content

    expected = f'href="{reverse("messaging:message_list")}?customer={customer.pk}">All their'
    assert expected in html.decode()


def test_a_flow_page_says_its_purpose_and_trigger_under_its_title(staff_client, shop):
    flows_ensure_defaults(shop_id=shop.pk)
    flow = Flow.objects.filter(shop=shop, kind="order_confirmation").get()

    html = staff_client.get(reverse("messaging:flow_edit", args=[flow.pk])).content.decode()

    assert '<p class="page-head__context">Transactional · on order placed</p>' in html


# Sorting the log -------------------------------------------------------------------------------

LOG = reverse("messaging:message_list")


@pytest.fixture
def three_messages(shop):
    """Three messages whose every sortable column orders them differently from the others."""
    now = timezone.now()
    rows = [
        # recipient, created days ago, due in hours, kind, channel, status
        ("a@example.org", 2, 5, "shipment_shipped", "email", MessageStatus.FAILED),
        ("b@example.org", 1, -3, "order_confirmation", "sms", MessageStatus.SCHEDULED),
        ("c@example.org", 3, 1, "review_request", "whatsapp", MessageStatus.DELIVERED),
    ]
    return [
        _message(
            shop,
            recipient=recipient,
            created_at=now - timedelta(days=days),
            send_at=now + timedelta(hours=hours),
            kind=kind,
            channel=channel,
            status=status,
        )
        for recipient, days, hours, kind, channel, status in rows
    ]


LOG_COLUMNS = {
    "created": ("Scheduled", lambda m: m.created_at),
    "due": ("Due", lambda m: m.send_at),
    "kind": ("Kind", lambda m: m.kind),
    "channel": ("Channel", lambda m: m.channel),
    "state": ("State", lambda m: m.status),
}


def _recipients(html):
    return [row[4].split()[0] for row in parse(html).find("table").rows()]


def _sorted_headers(html):
    head = parse(html).find("thead")
    return [(th.text(), th.get("aria-sort")) for th in head.find_all("th") if th.get("aria-sort")]


@pytest.mark.parametrize("key", list(LOG_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_the_log_sorts_by_each_sortable_column(staff_client, three_messages, key, descending):
    label, value = LOG_COLUMNS[key]

    html = staff_client.get(LOG, {"sort": f"-{key}" if descending else key}).text

    expected = [m.recipient for m in sorted(three_messages, key=value, reverse=descending)]
    assert len(set(map(value, three_messages))) == 3  # the column alone decides the order
    assert _recipients(html) == expected
    assert _sorted_headers(html) == [(label, "descending" if descending else "ascending")]


def test_the_log_sorts_in_its_htmx_swap_and_its_headers_swap_the_results(
    staff_client, three_messages
):
    html = staff_client.get(LOG, {"sort": "channel"}, headers={"HX-Request": "true"}).text

    assert "<html" not in html  # only the results
    assert _recipients(html) == ["a@example.org", "b@example.org", "c@example.org"]
    link = parse(html).find("thead").find("a", href="?sort=-channel")
    assert link.get("hx-get") == "?sort=-channel"
    assert link.get("hx-target") == "#message-results"


@pytest.mark.parametrize("sort", ["", "bogus", "-recipient", "attempts", "created_at"])
def test_the_log_falls_back_to_newest_first_on_an_unknown_sort(staff_client, three_messages, sort):
    html = staff_client.get(LOG, {"sort": sort}).text

    newest_first = sorted(three_messages, key=lambda m: m.created_at, reverse=True)
    assert _recipients(html) == [m.recipient for m in newest_first]
    assert _sorted_headers(html) == [("Scheduled", "descending")]


# Chips and headers on the remaining pages ------------------------------------------------------


@pytest.mark.django_db
def test_the_template_list_marks_customised_and_default_wording_as_chips(staff_client, shop):
    save_template(shop, locale="fr", channel="sms", body_text="x")

    page = parse(staff_client.get(reverse("message_templates:list")).text)

    row = next(r for r in page.find("table").find_all("tr") if r.text().startswith("Order conf"))
    chips = [(chip.text(), chip.classes) for chip in row.find_all(class_="status-chip")]
    assert [text for text, _ in chips] == ["Default", "Customised", "Default"]  # email, SMS, WA
    assert "status-chip--success" in chips[1][1]
    assert "status-chip--neutral" in chips[0][1]
    assert not page.find_all(class_="badge")


def test_a_message_page_shows_its_state_and_purpose_as_chips_under_its_header(staff_client, shop):
    message = _message(shop, status=MessageStatus.FAILED)

    page = parse(staff_client.get(reverse("messaging:message_detail", args=[message.pk])).text)

    assert page.find("h1").text() == "Order confirmation by Email"
    assert page.find("p", class_="page-head__context").text() == "To someone@example.org"
    chips = [chip.text() for chip in page.find(class_="page-status").find_all(class_="status-chip")]
    assert chips == ["Failed", "Transactional"]
    assert not page.find_all(class_="badge")


@pytest.mark.django_db
def test_the_template_editor_says_whose_wording_it_shows_under_its_title(staff_client, shop):
    url = reverse("message_templates:edit", args=["order_confirmation"])
    default = parse(staff_client.get(url).text)
    save_template(shop, locale="fr")
    own = parse(staff_client.get(url, {"locale": "fr"}).text)

    assert default.find("p", class_="page-head__context").text() == (
        "The product's default wording is used: write your own below."
    )
    context = own.find("p", class_="page-head__context").text()
    assert context.startswith("Your own wording for fr, last changed ")
