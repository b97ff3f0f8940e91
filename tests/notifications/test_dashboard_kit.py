"""The message dashboard's pages are built from the UI kit: its chips, header, filter bar and
pagination."""

from django.urls import reverse

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow, MessageStatus
from tests.factories import CustomerFactory
from tests.notifications.test_dashboard import _message


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
