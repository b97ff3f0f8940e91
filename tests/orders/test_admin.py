import json
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.ingest.webhooks import webhook_refusal_record
from orders.models import (
    ApiKey,
    DataExport,
    IdempotencyRecord,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    ProblemReport,
    ProductAffinity,
    SettingsChange,
    Shop,
    StaffInvitation,
    TrackingEvent,
    TrackingPageViews,
    WebhookEvent,
    WebhookRefusal,
    WebhookStatus,
)
from orders.shop_settings.staff import staff_invite
from orders.tasks import webhook_event_process_task
from postpurchase.tokens import sha256_hex
from tests.factories import (
    ApiKeyFactory,
    CarrierAccountFactory,
    ConsentFactory,
    CustomerFactory,
    DataExportFactory,
    IdempotencyRecordFactory,
    LineItemFactory,
    OrderEventFactory,
    OrderFactory,
    ProblemReportFactory,
    ProductAffinityFactory,
    ProductFactory,
    ShipmentFactory,
    ShipmentItemFactory,
    StaffMembershipFactory,
    TrackingEventFactory,
    TrackingPageViewsFactory,
    VariantFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db

ORDERS_MODELS = sorted(apps.get_app_config("orders").get_models(), key=lambda m: m.__name__)
# Written only by the system: ops can look but not add.
NO_ADD = {
    ProductAffinity,
    WebhookEvent,
    DataExport,
    OrderEvent,
    TrackingEvent,
    IdempotencyRecord,
    TrackingPageViews,
    ProblemReport,
    SettingsChange,
    StaffInvitation,
    WebhookRefusal,
}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def rows(shop):
    """At least one row of every model of `orders`, all in one shop."""
    StaffMembershipFactory(shop=shop)
    customer = CustomerFactory(shop=shop, email="grace@navy.example", last_name="Hopper")
    ConsentFactory(customer=customer)
    variant = VariantFactory(product=ProductFactory(shop=shop, title="Tea tin"))
    ProductAffinityFactory(product=variant.product)
    order = OrderFactory(shop=shop, customer=customer, number="#7001")
    line = LineItemFactory(order=order, product=variant.product, variant=variant)
    shipment = ShipmentFactory(order=order, tracking_number="TRACK7001")
    ShipmentItemFactory(shipment=shipment, line_item=line)
    TrackingEventFactory(shipment=shipment, location="Leeds")
    OrderEventFactory(order=order)
    ProblemReportFactory(order=order)
    TrackingPageViewsFactory(order=order)
    ApiKeyFactory(shop=shop)
    CarrierAccountFactory(shop=shop)
    WebhookEventFactory(shop=shop)
    IdempotencyRecordFactory(shop=shop)
    DataExportFactory(shop=shop)
    webhook_refusal_record(shop_id=shop.pk, provider="shopify", topic="orders/create", reason="x")
    # An invitation, and the record of its sending.
    staff_invite(shop_id=shop.pk, actor=None, email="new.hire@example.org", role="agent")
    return SimpleNamespace(shop=shop, customer=customer, order=order, shipment=shipment)


def test_every_orders_model_and_the_auth_models_are_registered():
    missing = [m.__name__ for m in ORDERS_MODELS if not admin.site.is_registered(m)]

    assert missing == []
    assert admin.site.is_registered(User)
    assert admin.site.is_registered(Group)


@pytest.mark.parametrize("model", ORDERS_MODELS, ids=lambda m: m.__name__)
def test_changelist_lists_the_rows(admin_client, rows, model):
    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model._default_manager.count() >= 1


@pytest.mark.parametrize("model", ORDERS_MODELS, ids=lambda m: m.__name__)
def test_add_page_is_open_only_where_adding_makes_sense(admin_client, rows, model):
    response = admin_client.get(_url(model, "add"))

    assert response.status_code == (403 if model in NO_ADD else 200)


@pytest.mark.parametrize("model", ORDERS_MODELS, ids=lambda m: m.__name__)
def test_change_page_shows_a_row(admin_client, rows, model):
    obj = model._default_manager.first()

    response = admin_client.get(_url(model, "change", obj.pk))

    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("model", ORDERS_MODELS, ids=lambda m: m.__name__)
def test_every_search_box_runs(admin_client, rows, model):
    assert admin.site.get_model_admin(model).search_fields

    response = admin_client.get(_url(model, "changelist"), {"q": "no-such-thing-zzz"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        (Order, "7001", "#7001"),
        (Order, "grace@navy", "#7001"),
        (Shop, "Shop", None),
        (LineItem, "#7001", None),
    ],
)
def test_search_finds_rows(admin_client, rows, model, query, expected):
    OrderFactory(shop=rows.shop, number="#8002")

    response = admin_client.get(_url(model, "changelist"), {"q": query})
    found = list(response.context["cl"].result_list)

    assert found
    if expected:
        assert [str(obj.number) for obj in found] == [expected]


def test_order_changelist_query_count_does_not_grow_with_rows(admin_client, rows):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(_url(Order, "changelist")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    OrderFactory.create_batch(25, shop=rows.shop)

    assert count() == few


def test_order_status_cannot_be_edited_once_the_order_exists(admin_client, rows):
    response = admin_client.get(_url(Order, "change", rows.order.pk))

    assert b'name="status"' not in response.content
    assert b'name="number"' in response.content


def _management(prefix: str, total: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_adding_an_order_gives_its_inline_lines_the_orders_shop(admin_client, shop):
    data = {
        "shop": shop.pk,
        "external_id": "ext-1",
        "number": "#9001",
        "status": OrderStatus.PLACED,
        "financial_status": "pending",
        "source": "api",
        "currency": "USD",
        "subtotal": "10.00",
        "discount_total": "0",
        "shipping_total": "0",
        "tax_total": "0",
        "total": "10.00",
        "placed_at_0": "2024-05-01",
        "placed_at_1": "10:00:00",
        **_management("line_items", 1),
        "line_items-0-external_id": "li-1",
        "line_items-0-title": "Green tea",
        "line_items-0-quantity": "2",
        "line_items-0-unit_price": "5.00",
        "line_items-0-discount_total": "0",
        "line_items-0-requires_shipping": "on",
        **_management("shipments", 0),
        **_management("events", 0),
    }

    response = admin_client.post(_url(Order, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    line = LineItem.objects.get(external_id="li-1")
    assert line.shop_id == shop.pk
    assert line.order.number == "#9001"


def test_webhook_events_cannot_be_changed_or_deleted(admin_client, rows):
    event = WebhookEvent.objects.get()

    change = admin_client.post(_url(WebhookEvent, "change", event.pk), {"topic": "x"})
    delete = admin_client.post(_url(WebhookEvent, "delete", event.pk), {"post": "yes"})

    event.refresh_from_db()
    assert change.status_code == 403
    assert delete.status_code == 403
    assert event.topic == "orders/create"


def test_replay_action_requeues_a_failed_webhook_event(
    admin_client, shop, monkeypatch, django_capture_on_commit_callbacks
):
    failed = WebhookEventFactory(shop=shop, status=WebhookStatus.FAILED, error="Order not found")
    untouched = WebhookEventFactory(shop=shop, status=WebhookStatus.FAILED, error="Bad payload")
    queued: list[int] = []
    # Stand in for the broker: record what would be sent to the worker.
    monkeypatch.setattr(webhook_event_process_task, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            _url(WebhookEvent, "changelist"),
            {"action": "replay", "_selected_action": [failed.pk]},
            follow=True,
        )

    failed.refresh_from_db()
    untouched.refresh_from_db()
    assert failed.status == WebhookStatus.RECEIVED
    assert failed.error == ""
    assert untouched.status == WebhookStatus.FAILED
    assert len(callbacks) == 1
    assert queued == [failed.pk]
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "Queued 1 webhook delivery for processing." in shown


def test_webhook_event_list_filters_by_provider_status_topic_and_shop(admin_client, rows):
    response = admin_client.get(_url(WebhookEvent, "changelist"))

    titles = {spec.title for spec in response.context["cl"].filter_specs}
    assert {"provider", "status", "topic", "shop"} <= titles


def test_api_key_add_shows_the_raw_key_once_and_stores_only_its_hash(admin_client, shop):
    response = admin_client.post(
        _url(ApiKey, "add"), {"shop": shop.pk, "name": "Storefront"}, follow=True
    )

    key = ApiKey.objects.get(name="Storefront")
    shown = " ".join(str(m) for m in response.context["messages"])
    raw = re.search(r"pp_live_[A-Za-z0-9_-]+", shown).group(0)
    assert key.key_hash == sha256_hex(raw)
    assert key.prefix in raw
    assert not ApiKey.objects.filter(key_hash=raw).exists()
    assert raw.encode() in response.content
    later = admin_client.get(_url(ApiKey, "change", key.pk))
    assert raw.encode() not in later.content
    assert key.key_hash.encode() in later.content


def test_api_key_hash_and_prefix_are_read_only(admin_client, shop):
    key = ApiKeyFactory(shop=shop)

    response = admin_client.get(_url(ApiKey, "change", key.pk))

    assert b'name="key_hash"' not in response.content
    assert b'name="prefix"' not in response.content
    assert b'name="name"' in response.content


def test_api_key_revoke_action_revokes_the_selected_keys(admin_client, shop):
    chosen, kept = ApiKeyFactory(shop=shop), ApiKeyFactory(shop=shop)

    response = admin_client.post(
        _url(ApiKey, "changelist"),
        {"action": "revoke", "_selected_action": [chosen.pk]},
        follow=True,
    )

    chosen.refresh_from_db()
    kept.refresh_from_db()
    assert chosen.revoked_at is not None
    assert kept.revoked_at is None
    assert "Revoked 1 API key." in [str(m) for m in response.context["messages"]]


def test_data_export_is_read_only_and_shows_pretty_json(admin_client, shop):
    export = DataExportFactory(shop=shop, data={"customer": {"email": "a@example.org"}})

    page = admin_client.get(_url(DataExport, "change", export.pk))
    edit = admin_client.post(_url(DataExport, "change", export.pk), {"customer_email": "x@y.z"})

    assert page.status_code == 200
    pretty = json.dumps({"customer": {"email": "a@example.org"}}, indent=2)
    assert pretty.replace('"', "&quot;") in page.content.decode()
    assert edit.status_code == 403


def test_secrets_are_editable_but_never_listed(admin_client, shop):
    account = CarrierAccountFactory(shop=shop)

    shops = admin_client.get(_url(Shop, "changelist"))
    accounts = admin_client.get(reverse("admin:orders_carrieraccount_changelist"))
    shop_form = admin_client.get(_url(Shop, "change", shop.pk))

    assert shop.shopify_webhook_secret.encode() not in shops.content
    assert account.webhook_secret.encode() not in accounts.content
    assert b'name="shopify_webhook_secret"' in shop_form.content
    assert account.webhook_secret.encode() in shop_form.content


def _save_shop(admin_client, shop, **changes):
    """Post the shop's change form as the admin renders it (inlines included), with `changes`."""
    page = admin_client.get(_url(Shop, "change", shop.pk))
    form = page.context["adminform"].form
    data = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for row in inline.formset.forms:
            data.update(
                {
                    row.add_prefix(name): row[name].value() if row[name].value() is not None else ""
                    for name in row.fields
                }
            )
    data = {key: value for key, value in {**data, **changes}.items() if value is not False}
    return admin_client.post(_url(Shop, "change", shop.pk), data)


def test_ops_give_a_shop_its_own_sms_number(admin_client, shop):
    response = _save_shop(admin_client, shop, sms_number="+14155559876")

    assert response.status_code == 302, response.context["adminform"].form.errors
    shop.refresh_from_db()
    assert shop.sms_number == "+14155559876"


@pytest.mark.parametrize("number", ["4155559876", "+1 415 555 9876", "+1415555987", "call us"])
def test_a_shop_number_not_in_e164_form_is_refused_and_nothing_changes(admin_client, shop, number):
    response = _save_shop(admin_client, shop, sms_number=number)

    assert response.status_code == 200
    assert "E.164" in str(response.context["adminform"].form.errors["sms_number"])
    shop.refresh_from_db()
    assert shop.sms_number == ""


def test_two_shops_cannot_share_a_number(admin_client, shop, other_shop):
    Shop.objects.filter(pk=other_shop.pk).update(sms_number="+14155559876")

    response = _save_shop(admin_client, shop, sms_number="+14155559876")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sms_number"] == [
        "Another shop already sends from +14155559876."
    ]
    shop.refresh_from_db()
    assert shop.sms_number == ""
