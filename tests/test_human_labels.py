"""People read labels, never identifiers: the dashboard's pages name each message kind by its
label, each status by its label and what a message is about by the order's number, and every
model's plural reads as English in ops admin."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow, Message, MessageEvent, MessageStatus
from orders.models import Purpose, StaffRole
from postpurchase.message_kinds import message_kind, message_kinds
from returns.models import ReturnRequest, ReturnStatus
from returns.services import (
    ItemChoice,
    return_policy_for,
    return_request_create,
    return_request_mark_in_transit,
)
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShipmentFactory,
    StaffMembershipFactory,
    TrackingEventFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = ("orders", "returns", "notifications", "loyalty", "feedback")


def raw_identifiers() -> set[str]:
    """The snake_case names of every registered message kind and every stored choice (statuses,
    reasons, methods, ...) of the project's models."""
    names = {kind.name for kind in message_kinds()}
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or ():
                names.add(str(value))
    return {name for name in names if "_" in name}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "template", "title"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "title"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture
def owner_client(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user)
    return client


@pytest.fixture
def history(shop):
    """An order on its way with a message and a return in every state of interest."""
    flows_ensure_defaults(shop_id=shop.pk)
    customer = CustomerFactory(shop=shop)
    order = OrderFactory(
        shop=shop,
        customer=customer,
        number="#10515",
        status="delivered",
        financial_status="partially_refunded",
        delivered_at=timezone.now() - timedelta(days=2),
    )
    variant = VariantFactory(product=ProductFactory(shop=shop), price="40.00")
    line = LineItemFactory(
        order=order,
        product=variant.product,
        variant=variant,
        unit_price=Decimal("40.00"),
        quantity=2,
    )
    shipment = ShipmentFactory(order=order, status="out_for_delivery")
    TrackingEventFactory(shipment=shipment, status="in_transit")
    message = Message.objects.create(
        shop=shop,
        customer=customer,
        order=order,
        kind="order_confirmation",
        channel="email",
        purpose=Purpose.TRANSACTIONAL,
        recipient=customer.email,
        about_type="order",
        about_id=order.pk,
        send_at=timezone.now(),
        status=MessageStatus.SENT,
        dedupe_key="labels:1",
    )
    for before, after in (("scheduled", "queued"), ("queued", "sending"), ("sending", "sent")):
        MessageEvent.objects.create(message=message, from_status=before, to_status=after)
    return_policy_for(shop)
    return_request, _ = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk,
                quantity=1,
                reason_code="wrong_item",
                resolution="store_credit",
            )
        ],
        method="drop_off",
        submission_key="labels-return-key-1",
    )
    return_request.refresh_from_db()
    if return_request.status == ReturnStatus.REQUESTED:
        pytest.fail("the default policy approves at once")
    return_request_mark_in_transit(return_request=return_request)
    return {"order": order, "message": message, "return": ReturnRequest.objects.get()}


PAGES = {
    "messages log": lambda h: reverse("messaging:message_list"),
    "message page": lambda h: reverse("messaging:message_detail", args=[h["message"].pk]),
    "messaging overview": lambda h: reverse("messaging:overview"),
    "flows": lambda h: reverse("messaging:flow_list"),
    "flow page": lambda h: reverse(
        "messaging:flow_edit", args=[Flow.objects.get(kind="shipment_out_for_delivery").pk]
    ),
    "templates": lambda h: reverse("message_templates:list"),
    "orders list": lambda h: reverse("dashboard:order_list"),
    "order page": lambda h: reverse("dashboard:order_detail", args=[h["order"].pk]),
    "returns queue": lambda h: reverse("returns_dashboard:queue"),
    "return page": lambda h: reverse("returns_dashboard:detail", args=[h["return"].pk]),
}


@pytest.mark.parametrize("page", PAGES)
def test_dashboard_pages_show_no_raw_identifier(owner_client, history, page):
    response = owner_client.get(PAGES[page](history))

    assert response.status_code == 200
    text = visible_text(response.content.decode())
    shown = sorted(name for name in raw_identifiers() if re.search(rf"\b{name}\b", text))
    assert shown == [], f"{page} shows {shown}"


def test_the_message_page_names_the_kind_and_what_it_is_about_by_the_order_number(
    owner_client, history
):
    order = history["order"]
    response = owner_client.get(reverse("messaging:message_detail", args=[history["message"].pk]))

    text = " ".join(visible_text(response.content.decode()).split())
    assert "Order confirmation by Email" in text
    about = re.search(r"About (.*?) Scheduled", text).group(1)
    assert about == "Order #10515"
    assert str(order.pk) not in about


def test_every_message_kind_and_status_label_is_translated_to_german():
    labels = [kind.label for kind in message_kinds()]
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for field in model._meta.get_fields():
            if field.name.endswith("status") or field.name in ("reason", "resolution", "method"):
                labels += [label for _value, label in getattr(field, "flatchoices", None) or ()]
    assert labels
    with translation.override("de"):
        untranslated = sorted(
            {str(label) for label in labels if str(label) == _english(label) and _has_words(label)}
        )
    assert untranslated == []
    assert message_kind("order_confirmation").label


def _english(label) -> str:
    with translation.override("en"):
        return str(label)


def _has_words(label) -> bool:
    # A name such as "Shopify" or "WhatsApp" reads the same in German.
    return str(label) not in {"Shopify", "WhatsApp", "SMS", "Email", "E-Mail"}


WRONG_PLURAL = re.compile(r"([^aeiou]ys|ss|xs|chs|shs)$", re.IGNORECASE)


def test_every_models_plural_reads_as_english():
    wrong = sorted(
        f"{model._meta.label}: {model._meta.verbose_name_plural}"
        for model in apps.get_models()
        if WRONG_PLURAL.search(str(model._meta.verbose_name_plural))
    )

    assert wrong == []
