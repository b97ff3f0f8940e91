"""Texts that are no compliance keyword are offered to the apps' handlers, in order, until one
takes them; a keyword never is, and a failing handler loses nothing."""

import pytest

from notifications.engine import inbound_texts
from notifications.models import InboundMessage
from notifications.services import InboundText, inbound_text_handler_register
from tests.factories import CustomerFactory
from tests.notifications.test_twilio_webhooks import PHONE, inbound

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"


@pytest.fixture
def handlers(monkeypatch):
    """Only the handlers this test registers."""
    monkeypatch.setattr(inbound_texts, "_handlers", {})
    offered: list[tuple[str, InboundText]] = []

    def handler(key: str, takes: bool):
        def handle(text: InboundText) -> bool:
            offered.append((key, text))
            return takes

        inbound_text_handler_register(key, handle)

    return handler, offered


def test_a_plain_text_goes_to_the_handlers_in_order_until_one_takes_it(client, handlers):
    register, offered = handlers
    customer = CustomerFactory(phone=PHONE)
    register("first", False)
    register("second", True)
    register("third", True)

    inbound(client, "9")

    assert [key for key, _text in offered] == ["first", "second"]
    text = offered[0][1]
    assert (text.body, text.sender, text.channel) == ("9", PHONE, "sms")
    assert (text.shop_id, text.customer_id) == (customer.shop_id, customer.pk)
    assert text.inbound_id == InboundMessage.objects.get().pk


@pytest.mark.parametrize("keyword", ["STOP", "start", "HELP"])
def test_a_keyword_is_never_offered(client, handlers, keyword):
    register, offered = handlers
    CustomerFactory(phone=PHONE)
    register("any", True)

    inbound(client, keyword)

    assert offered == []


def test_a_failing_handler_is_skipped_and_the_text_kept(client, handlers):
    register, offered = handlers
    CustomerFactory(phone=PHONE)

    def broken(text: InboundText) -> bool:
        raise RuntimeError("boom")

    inbound_text_handler_register("broken", broken)
    register("next", True)

    response = inbound(client, "hello")

    assert response.status_code == 200
    assert [key for key, _text in offered] == ["next"]
    assert InboundMessage.objects.get().body == "hello"
