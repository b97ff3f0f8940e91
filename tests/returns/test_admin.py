"""Ops' admin for returns: every page loads, returns and the ledger are read-only, the list
filters and search run."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from returns.models import ReturnPolicy, ReturnReason, ReturnRequest, StoreCreditEntry
from returns.services import (
    ItemChoice,
    return_policy_for,
    return_request_create,
    store_credit_issue,
)
from tests.factories import LineItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def return_request(shop):
    return_policy_for(shop)
    order = OrderFactory(
        shop=shop, status="delivered", delivered_at=timezone.now() - timedelta(days=1)
    )
    line = LineItemFactory(order=order, title="Linen shirt", quantity=2)
    rr = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk,
                quantity=1,
                reason_code="too_small",
                resolution="refund",
                comment="Tight",
                photo=b"\x89PNG",
                photo_content_type="image/png",
            )
        ],
        method="drop_off",
        submission_key="admin-1",
    )[0]
    store_credit_issue(
        customer=order.customer,
        amount=Decimal("5.00"),
        currency="USD",
        reason="Goodwill",
        dedupe_key="admin-credit",
    )
    return rr


def _url(model, view, *args):
    return reverse(f"admin:returns_{model._meta.model_name}_{view}", args=args)


MODELS = [ReturnRequest, ReturnPolicy, ReturnReason, StoreCreditEntry]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_pages_load(admin_client, return_request, model):
    obj = model.objects.first()

    listing = admin_client.get(_url(model, "changelist"))
    page = admin_client.get(_url(model, "change", obj.pk))

    assert listing.status_code == 200
    assert page.status_code == 200


def test_return_page_shows_its_items_and_history_read_only(admin_client, return_request):
    response = admin_client.get(_url(ReturnRequest, "change", return_request.pk))

    text = response.text
    assert "Tight" in text
    assert "requested" in text
    # Read-only: no inputs for the status or the items, and the photo's bytes stay out.
    assert 'name="status"' not in text
    assert 'name="items-0-quantity"' not in text
    assert "PNG" not in text


@pytest.mark.parametrize("model", [ReturnRequest, StoreCreditEntry], ids=lambda m: m.__name__)
def test_returns_and_credit_cannot_be_added(admin_client, return_request, model):
    assert admin_client.get(_url(model, "add")).status_code == 403


def test_return_list_filters_and_search(admin_client, return_request, shop):
    url = _url(ReturnRequest, "changelist")

    by_rma = admin_client.get(url, {"q": return_request.rma})
    by_order = admin_client.get(url, {"q": return_request.order.number})
    nothing = admin_client.get(url, {"q": "no-such-return"})
    filtered = admin_client.get(
        url, {"status__exact": "approved", "method__exact": "drop_off", "shop__id__exact": shop.pk}
    )

    assert by_rma.context["cl"].result_count == 1
    assert by_order.context["cl"].result_count == 1
    assert nothing.context["cl"].result_count == 0
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 1  # auto-approved by the default policy


def test_reason_can_be_edited_but_not_deleted(admin_client, return_request, shop):
    reason = ReturnReason.objects.get(shop=shop, code="other")

    assert admin_client.get(_url(ReturnReason, "delete", reason.pk)).status_code == 403
