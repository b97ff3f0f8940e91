"""A new kind of message is added in one app alone: `tests.giftcards` declares its event, its
kind (trigger, channels, purpose, variables, planner, preview) and its default templates, and
once it is installed the engine schedules, renders and sends the message on the event, the
shop gets the kind's flow, and the template editor lists and previews it, with no change to
`notifications`."""

import pytest
from django.core import mail
from django.test import modify_settings
from django.urls import reverse

from notifications.models import Flow, Message, MessageStatus
from notifications.services import messages_claim_due, messages_send
from postpurchase import events, message_kinds
from postpurchase.events import domain_event_deliver
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

KIND = "gift_card_issued"


@pytest.fixture
def giftcards():
    """The gift card app installed for the test: its `ready()` registers its kind."""
    try:
        with modify_settings(INSTALLED_APPS={"append": "tests.giftcards"}):
            yield message_kinds.message_kind(KIND)
    finally:
        message_kinds.unregister(KIND)


def issue_gift_card(order, *, card_id=7, code="GIFT-7Q2X-LM3P"):
    event = events.publish(
        name="gift_card_issued",
        shop_id=order.shop_id,
        order_id=order.pk,
        gift_card_id=card_id,
        code=code,
        amount="25.00",
    )
    domain_event_deliver(event_id=event.pk)


def test_the_kind_is_the_apps_own(giftcards):
    assert giftcards.app == "giftcards"
    assert [kind.name for kind in message_kinds.message_kinds()][-1] == KIND
    assert "notifications.gift_card_issued" in events.subscribers_of("gift_card_issued")


def test_its_event_schedules_renders_and_sends_the_message_by_email(giftcards, shop):
    order = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, first_name="Ada"))

    issue_gift_card(order)
    issue_gift_card(order)  # the same event twice owes one message
    messages_send(message_ids=messages_claim_due())

    message = Message.objects.get(kind=KIND)
    assert (message.channel, message.recipient, message.purpose) == (
        "email",
        order.email,
        "transactional",
    )
    assert (message.about_type, message.about_id) == ("gift_card", 7)
    assert message.expires_at - message.send_at == giftcards.useful_for
    assert message.status == MessageStatus.SENT
    (sent,) = mail.outbox
    assert sent.to == [order.email]
    assert sent.subject == f"{shop.name}: a gift card for Ada"
    assert "Code: GIFT-7Q2X-LM3P" in sent.body
    assert f"your order {order.number}" in sent.body
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>GIFT-7Q2X-LM3P</strong>" in html
    flow = Flow.objects.get(shop=shop, kind=KIND)
    assert (flow.trigger, flow.channels, flow.useful_for) == (
        "gift_card_issued",
        ["email"],
        giftcards.useful_for,
    )


def test_a_disabled_flow_of_the_kind_sends_nothing(giftcards, shop):
    order = OrderFactory(shop=shop)
    issue_gift_card(order, card_id=1)
    Flow.objects.filter(shop=shop, kind=KIND).update(is_enabled=False)

    issue_gift_card(order, card_id=2)

    assert list(Message.objects.filter(kind=KIND).values_list("about_id", flat=True)) == [1]


def test_the_template_editor_lists_and_previews_it(giftcards, staff_client, shop):
    order = OrderFactory(shop=shop)

    listing = staff_client.get(reverse("message_templates:list"))
    edit = staff_client.get(reverse("message_templates:edit", args=[KIND]))

    rows = {row["kind"]: row for row in listing.context["rows"]}
    assert rows[KIND]["label"] == "Gift card issued"
    assert "Gift card issued" in listing.content.decode()
    assert edit.status_code == 200
    assert [v.name for v in edit.context["variables"]][-2:] == ["code", "amount"]
    assert edit.context["form"]["body_text"].value().startswith("Hi {{ customer_first_name")
    preview = edit.context["preview"]
    assert preview["error"] == ""
    # The order's own values where it has them, the kind's samples for the rest.
    assert f"your order {order.number}" in preview["text"].body_text
    assert "Code: GIFT-0000-SAMPLE" in preview["text"].body_text


def test_once_the_app_is_gone_its_kind_and_event_subscription_go_too(giftcards):
    message_kinds.unregister(KIND)

    assert message_kinds.message_kind_find(KIND) is None
    assert "notifications.gift_card_issued" not in events.subscribers_of("gift_card_issued")
