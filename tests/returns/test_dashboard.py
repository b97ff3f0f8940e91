"""The merchant side of returns: the queue (scoped, counts, filters, bulk moves), the return
page and its actions, photos, and the policy editor."""

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus, StaffRole
from returns.models import ItemCondition, ReturnEvent, ReturnPolicy, ReturnReason, ReturnStatus
from returns.services import (
    Inspection,
    ItemChoice,
    return_policy_for,
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    StaffMembershipFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db
QUEUE = "returns_dashboard:queue"
_keys = itertools.count()


def manual_policy(shop) -> ReturnPolicy:
    """Returns stay 'requested' until staff act."""
    policy = return_policy_for(shop)
    policy.auto_approve = False
    policy.save(update_fields=["auto_approve"])
    return policy


def delivered_line(shop, *, price="40.00", quantity=1, product=None, order=None):
    order = order or OrderFactory(
        shop=shop,
        status=OrderStatus.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=2),
    )
    variant = VariantFactory(product=product or ProductFactory(shop=shop), price=price)
    return LineItemFactory(
        order=order,
        product=variant.product,
        variant=variant,
        title=variant.product.title,
        variant_title=variant.title,
        unit_price=Decimal(price),
        quantity=quantity,
    )


def file_return(
    line, *, quantity=1, reason="too_small", resolution="refund", method="drop_off", **kwargs
):
    return return_request_create(
        order=line.order,
        items=[
            ItemChoice(
                line_item_id=line.pk,
                quantity=quantity,
                reason_code=reason,
                resolution=resolution,
                **kwargs,
            )
        ],
        method=method,
        submission_key=f"dash-{next(_keys)}",
    )[0]


@pytest.fixture
def policy(shop):
    return manual_policy(shop)


# Queue -----------------------------------------------------------------------------------------


def test_queue_lists_only_the_current_shops_returns(staff_client, shop, other_shop, policy):
    mine = file_return(delivered_line(shop))
    manual_policy(other_shop)
    theirs = file_return(delivered_line(other_shop))

    response = staff_client.get(reverse(QUEUE))

    assert response.status_code == 200
    assert mine.rma in response.text
    assert theirs.rma not in response.text
    assert list(response.context["returns"]) == [mine]


def test_queue_counts_returns_by_status(staff_client, shop, policy):
    for _ in range(2):
        file_return(delivered_line(shop))
    approved = file_return(delivered_line(shop))
    return_request_approve(return_request=approved)

    response = staff_client.get(reverse(QUEUE))

    tabs = {value: count for value, _label, count in response.context["status_tabs"]}
    assert tabs[ReturnStatus.REQUESTED] == 2
    assert tabs[ReturnStatus.APPROVED] == 1
    assert tabs[ReturnStatus.RESOLVED] == 0
    assert response.context["total"] == 3


def test_queue_filters_by_status_and_keeps_counts_of_all(staff_client, shop, policy):
    requested = file_return(delivered_line(shop))
    approved = file_return(delivered_line(shop))
    return_request_approve(return_request=approved)

    response = staff_client.get(reverse(QUEUE), {"status": "approved"})

    assert list(response.context["returns"]) == [approved]
    assert requested.rma not in response.text
    tabs = {value: count for value, _label, count in response.context["status_tabs"]}
    assert tabs[ReturnStatus.REQUESTED] == 1


def test_queue_filters_by_reason_product_and_resolution(staff_client, shop, policy):
    shirt = ProductFactory(shop=shop, title="Linen shirt")
    too_small = file_return(delivered_line(shop, product=shirt), reason="too_small")
    damaged = file_return(delivered_line(shop), reason="other", resolution="store_credit")
    reason = ReturnReason.objects.get(shop=shop, code="too_small")

    by_reason = staff_client.get(reverse(QUEUE), {"reason": reason.pk})
    by_product = staff_client.get(reverse(QUEUE), {"product": shirt.pk})
    by_resolution = staff_client.get(reverse(QUEUE), {"resolution": "store_credit"})

    assert list(by_reason.context["returns"]) == [too_small]
    assert list(by_product.context["returns"]) == [too_small]
    assert list(by_resolution.context["returns"]) == [damaged]


def test_queue_filters_by_date_range(staff_client, shop, policy):
    old = file_return(delivered_line(shop))
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))
    new = file_return(delivered_line(shop))
    since = (timezone.now() - timedelta(days=5)).date()

    response = staff_client.get(reverse(QUEUE), {"created_from": since.isoformat()})

    assert list(response.context["returns"]) == [new]


def test_queue_searches_by_rma_and_order_number(staff_client, shop, policy):
    first = file_return(delivered_line(shop))
    second = file_return(delivered_line(shop))

    by_rma = staff_client.get(reverse(QUEUE), {"q": first.rma.lower()})
    by_order = staff_client.get(reverse(QUEUE), {"q": second.order.number.lstrip("#")})

    assert list(by_rma.context["returns"]) == [first]
    assert list(by_order.context["returns"]) == [second]


def test_queue_shows_an_empty_state(staff_client, shop):
    response = staff_client.get(reverse(QUEUE))

    assert response.status_code == 200
    assert "No returns yet" in response.text


def test_queue_pages_by_fifty(staff_client, shop, policy):
    line = delivered_line(shop, quantity=51)
    for _ in range(51):
        file_return(line)

    first = staff_client.get(reverse(QUEUE))
    second = staff_client.get(reverse(QUEUE), {"page": 2})

    assert len(first.context["returns"]) == 50
    assert len(second.context["returns"]) == 1


def test_bulk_approve_moves_requested_returns_and_reports_the_others(staff_client, shop, policy):
    first = file_return(delivered_line(shop))
    second = file_return(delivered_line(shop))
    already = file_return(delivered_line(shop))
    return_request_approve(return_request=already)

    response = staff_client.post(
        reverse("returns_dashboard:bulk"),
        {"action": "approve", "ids": [first.pk, second.pk, already.pk]},
        follow=True,
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == ReturnStatus.APPROVED
    # Through the service: each move has its history row with the staff member.
    assert ReturnEvent.objects.filter(
        return_request=first, to_status="approved", actor=response.context["user"]
    ).exists()
    text = response.text
    assert "Approved 2 returns." in text
    assert f"1 could not be approved ({already.rma}: Approved)" in text


def test_bulk_reject_needs_a_reason_and_records_it(staff_client, shop, policy):
    rr = file_return(delivered_line(shop))

    refused = staff_client.post(
        reverse("returns_dashboard:bulk"), {"action": "reject", "ids": [rr.pk]}, follow=True
    )
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REQUESTED
    assert "Say why" in refused.text

    staff_client.post(
        reverse("returns_dashboard:bulk"),
        {"action": "reject", "ids": [rr.pk], "reason": "Worn and washed"},
    )
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REJECTED
    assert rr.status_reason == "Worn and washed"


def test_bulk_action_never_touches_another_shops_return(staff_client, other_shop):
    manual_policy(other_shop)
    theirs = file_return(delivered_line(other_shop))

    response = staff_client.post(
        reverse("returns_dashboard:bulk"), {"action": "approve", "ids": [theirs.pk]}, follow=True
    )

    theirs.refresh_from_db()
    assert theirs.status == ReturnStatus.REQUESTED
    assert "could not be approved" in response.text


# Return page -----------------------------------------------------------------------------------


def detail(rr):
    return reverse("returns_dashboard:detail", args=[rr.pk])


def act(rr, action):
    return reverse("returns_dashboard:action", args=[rr.pk, action])


def test_return_page_shows_items_totals_history_and_customer(staff_client, shop, policy):
    line = delivered_line(shop, price="30.00")
    earlier_order = OrderFactory(
        shop=shop, customer=line.order.customer, status="delivered", delivered_at=timezone.now()
    )
    earlier = file_return(delivered_line(shop, order=earlier_order))
    rr = file_return(line, comment="Too tight at the shoulders")

    response = staff_client.get(detail(rr))

    assert response.status_code == 200
    text = response.text
    assert line.title in text
    assert "Too tight at the shoulders" in text
    assert "Too small" in text
    assert "30.00 USD" in text
    assert earlier.rma in text
    history = response.context["history"]
    assert history.order_count == 2
    assert history.return_count == 1
    assert [a for a, _ in response.context["actions"]] == ["approve", "reject"]


def test_return_page_of_another_shop_is_404(staff_client, other_shop):
    manual_policy(other_shop)
    theirs = file_return(delivered_line(other_shop))

    assert staff_client.get(detail(theirs)).status_code == 404
    for action in ("approve", "reject", "in-transit", "receive", "inspect", "resolve"):
        assert staff_client.post(act(theirs, action), {"reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ReturnStatus.REQUESTED


def test_each_action_moves_the_return_to_its_resolution(staff_client, shop, policy):
    line = delivered_line(shop, quantity=2)
    rr = file_return(line, quantity=2)
    item = rr.items.get()

    steps = [
        ("approve", {}, ReturnStatus.APPROVED),
        ("in-transit", {}, ReturnStatus.IN_TRANSIT),
        ("receive", {}, ReturnStatus.RECEIVED),
        (
            "inspect",
            {
                f"condition-{item.pk}": "resellable",
                f"restock-{item.pk}": "on",
                f"note-{item.pk}": "Tags on",
            },
            ReturnStatus.INSPECTED,
        ),
        ("resolve", {}, ReturnStatus.RESOLVED),
    ]
    for action, data, expected in steps:
        response = staff_client.post(act(rr, action), data, follow=True)
        rr.refresh_from_db()
        assert rr.status == expected, (action, response.text)
        assert response.redirect_chain[-1][0] == detail(rr)

    item.refresh_from_db()
    assert (item.condition, item.restock, item.inspection_note) == (
        ItemCondition.RESELLABLE,
        True,
        "Tags on",
    )
    assert rr.resolved_at is not None
    assert list(rr.events.values_list("to_status", flat=True)) == [
        "requested",
        "approved",
        "in_transit",
        "received",
        "inspected",
        "resolved",
    ]


def test_reject_from_the_page_records_the_reason(staff_client, shop, policy):
    rr = file_return(delivered_line(shop))

    staff_client.post(act(rr, "reject"), {"reason": "Outside the window"})

    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REJECTED
    assert rr.status_reason == "Outside the window"


def test_invalid_action_shows_an_error_and_changes_nothing(staff_client, shop, policy):
    rr = file_return(delivered_line(shop))
    events_before = rr.events.count()

    response = staff_client.post(act(rr, "receive"), follow=True)

    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REQUESTED
    assert rr.events.count() == events_before
    assert "Mark received: not possible while the return is requested." in response.text


def test_domain_error_shows_as_a_message(staff_client, shop, policy):
    rr = file_return(delivered_line(shop))
    return_request_approve(return_request=rr)
    return_request_receive(return_request=rr, actor=None)
    item = rr.items.get()

    # No condition chosen: the inspection is refused and nothing is recorded.
    response = staff_client.post(act(rr, "inspect"), {f"note-{item.pk}": "x"}, follow=True)

    rr.refresh_from_db()
    item.refresh_from_db()
    assert rr.status == ReturnStatus.RECEIVED
    assert item.condition == ""
    assert "Choose each item&#x27;s condition." in response.text


def test_inspect_records_each_items_condition(staff_client, shop, policy):
    order = OrderFactory(shop=shop, status="delivered", delivered_at=timezone.now())
    first = delivered_line(shop, order=order)
    second = delivered_line(shop, order=order)
    rr = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=first.pk, quantity=1, reason_code="too_large", resolution="refund"
            ),
            ItemChoice(
                line_item_id=second.pk, quantity=1, reason_code="other", resolution="refund"
            ),
        ],
        method="drop_off",
        submission_key="inspect-two",
    )[0]
    return_request_approve(return_request=rr)
    return_request_receive(return_request=rr, actor=None)
    a, b = rr.items.order_by("pk")

    staff_client.post(
        act(rr, "inspect"),
        {
            f"condition-{a.pk}": "damaged",
            f"restock-{a.pk}": "on",
            f"condition-{b.pk}": "missing_parts",
            f"note-{b.pk}": "No charger",
        },
    )

    a.refresh_from_db()
    b.refresh_from_db()
    # A damaged item never goes back on the shelf, whatever was ticked.
    assert (a.condition, a.restock) == ("damaged", False)
    assert (b.condition, b.restock, b.inspection_note) == ("missing_parts", False, "No charger")


def test_kept_item_is_resolved_from_approval(staff_client, shop, policy):
    policy.methods = ["drop_off", "keep_item"]
    policy.keep_item_max_value = Decimal("50.00")
    policy.save(update_fields=["methods", "keep_item_max_value"])
    line = delivered_line(shop, price="10.00")
    rr = return_request_create(
        order=line.order,
        items=[
            ItemChoice(
                line_item_id=line.pk, quantity=1, reason_code="too_small", resolution="refund"
            )
        ],
        method="keep_item",
        submission_key="kept",
    )[0]
    return_request_approve(return_request=rr)

    page = staff_client.get(detail(rr))
    assert [a for a, _ in page.context["actions"]] == ["resolve"]

    staff_client.post(act(rr, "resolve"))
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.RESOLVED


# Photos ----------------------------------------------------------------------------------------


def test_photo_is_served_to_the_shops_staff_with_nosniff(staff_client, shop, policy):
    rr = file_return(delivered_line(shop), photo=b"\x89PNG fake", photo_content_type="image/png")
    item = rr.items.get()

    response = staff_client.get(reverse("returns_dashboard:item_photo", args=[rr.pk, item.pk]))

    assert response.status_code == 200
    assert response.content == b"\x89PNG fake"
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


def test_photo_of_another_shop_is_404(client, shop, other_shop, policy):
    manual_policy(other_shop)
    theirs = file_return(
        delivered_line(other_shop), photo=b"\x89PNG fake", photo_content_type="image/png"
    )
    item = theirs.items.get()
    client.force_login(StaffMembershipFactory(shop=shop).user)

    response = client.get(reverse("returns_dashboard:item_photo", args=[theirs.pk, item.pk]))

    assert response.status_code == 404


def test_photo_of_an_unknown_type_is_a_download(staff_client, shop, policy):
    rr = file_return(delivered_line(shop), photo=b"<html>", photo_content_type="text/html")
    item = rr.items.get()

    response = staff_client.get(reverse("returns_dashboard:item_photo", args=[rr.pk, item.pk]))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


# Policy editor ---------------------------------------------------------------------------------

POLICY = "returns_dashboard:policy"


@pytest.fixture
def owner_client(client, shop):
    """The policy is the owner's to change (`RETURN_POLICY_EDIT`)."""
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user)
    return client


def policy_post(shop, **overrides):
    """The editor's form as the page renders it for `shop`, with `overrides` applied."""
    reasons = list(ReturnReason.objects.filter(shop=shop).order_by("position", "pk"))
    data = {
        "window-return_window_days": "30",
        "policy-offers_exchange": "on",
        "policy-offers_store_credit": "on",
        "policy-store_credit_bonus_percent": "10.00",
        "policy-offers_refund": "on",
        "policy-methods": ["drop_off", "pickup"],
        "policy-keep_item_max_value": "0.00",
        "policy-auto_approve": "on",
        "policy-auto_approve_max_total": "",
        "policy-return_address": "1 Return Lane",
        "policy-instructions": "",
        "reasons-TOTAL_FORMS": str(len(reasons) + 1),
        "reasons-INITIAL_FORMS": str(len(reasons)),
        "reasons-MIN_NUM_FORMS": "0",
        "reasons-MAX_NUM_FORMS": "1000",
    }
    for i, reason in enumerate(reasons):
        data.update(
            {
                f"reasons-{i}-id": str(reason.pk),
                f"reasons-{i}-label": reason.label,
                f"reasons-{i}-fee": str(reason.fee),
                f"reasons-{i}-position": str(reason.position),
            }
        )
        if reason.is_shop_fault:
            data[f"reasons-{i}-is_shop_fault"] = "on"
        if reason.requires_photo:
            data[f"reasons-{i}-requires_photo"] = "on"
        if reason.is_active:
            data[f"reasons-{i}-is_active"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_policy_editor_creates_the_defaults_and_shows_them(owner_client, shop):
    response = owner_client.get(reverse(POLICY))

    assert response.status_code == 200
    assert ReturnPolicy.objects.filter(shop=shop).exists()
    assert "Arrived damaged" in response.text
    assert (
        len(response.context["reasons"].forms) == ReturnReason.objects.filter(shop=shop).count() + 1
    )


def test_policy_editor_saves_every_setting(owner_client, shop):
    return_policy_for(shop)
    final_sale = ProductFactory(shop=shop, title="Earrings")
    variant = VariantFactory(product=ProductFactory(shop=shop))
    n = ReturnReason.objects.filter(shop=shop).count()

    response = owner_client.post(
        reverse(POLICY),
        policy_post(
            shop,
            **{
                "window-return_window_days": "45",
                "policy-non_returnable_products": [final_sale.pk],
                "policy-non_returnable_variants": [variant.pk],
                "policy-offers_refund": None,
                "policy-store_credit_bonus_percent": "15",
                "policy-methods": ["pickup", "keep_item"],
                "policy-keep_item_max_value": "12.50",
                "policy-auto_approve_max_total": "80",
                "policy-auto_approve_reasons": ["too_small", "too_large"],
                "policy-instructions": "Pack it well.",
                "reasons-0-label": "Runs small",
                "reasons-0-fee": "2.50",
                f"reasons-{n}-label": "Colour differs from photo",
                f"reasons-{n}-is_shop_fault": "on",
                f"reasons-{n}-is_active": "on",
                f"reasons-{n}-fee": "0",
                f"reasons-{n}-position": "20",
            },
        ),
    )

    assert response.status_code == 302, response.context and response.context["policy_form"].errors
    shop.refresh_from_db()
    policy = ReturnPolicy.objects.get(shop=shop)
    assert shop.return_window_days == 45
    assert list(policy.non_returnable_products.all()) == [final_sale]
    assert list(policy.non_returnable_variants.all()) == [variant]
    assert policy.offers_refund is False
    assert policy.store_credit_bonus_percent == Decimal("15.00")
    assert policy.methods == ["pickup", "keep_item"]
    assert policy.keep_item_max_value == Decimal("12.50")
    assert policy.auto_approve_max_total == Decimal("80.00")
    assert policy.auto_approve_reasons == ["too_small", "too_large"]
    assert policy.instructions == "Pack it well."
    renamed = ReturnReason.objects.get(shop=shop, code="too_small")
    assert (renamed.label, renamed.fee) == ("Runs small", Decimal("2.50"))
    added = ReturnReason.objects.get(shop=shop, label="Colour differs from photo")
    assert added.code == "colour-differs-from-photo"
    assert added.is_shop_fault


def test_a_reason_added_in_the_blank_row_comes_last(owner_client, shop):
    """The merchant fills in only the label of the empty last row and saves, leaving its "Order"
    as the page filled it in: the new reason follows every existing one."""
    return_policy_for(shop)
    existing = [reason.label for reason in ReturnReason.objects.filter(shop=shop)]
    page = owner_client.get(reverse(POLICY))
    blank = page.context["reasons"].forms[-1]
    shown_position = blank["position"].value()
    assert f'name="{blank.add_prefix("position")}" value="{shown_position}"' in page.text

    n = len(existing)
    response = owner_client.post(
        reverse(POLICY),
        policy_post(
            shop,
            **{
                f"reasons-{n}-label": "Colour differs from photo",
                f"reasons-{n}-is_active": "on",
                f"reasons-{n}-fee": "0",
                f"reasons-{n}-position": str(shown_position),
            },
        ),
    )

    assert response.status_code == 302, response.context and [
        response.context["reasons"].errors,
        response.context["reasons"].non_form_errors(),
        response.context["policy_form"].errors,
    ]
    editor = owner_client.get(reverse(POLICY))
    assert [form.instance.label for form in editor.context["reasons"].forms[:-1]] == [
        *existing,
        "Colour differs from photo",
    ]
    portal_order = ReturnReason.objects.filter(shop=shop, is_active=True)
    assert portal_order.last().label == "Colour differs from photo"


@pytest.mark.parametrize("bonus", ["-1", "100.01", "250"])
def test_policy_editor_refuses_a_bonus_outside_0_to_100(owner_client, shop, bonus):
    policy = return_policy_for(shop)

    response = owner_client.post(
        reverse(POLICY), policy_post(shop, **{"policy-store_credit_bonus_percent": bonus})
    )

    assert response.status_code == 400
    assert "store_credit_bonus_percent" in response.context["policy_form"].errors
    policy.refresh_from_db()
    assert policy.store_credit_bonus_percent == Decimal("10.00")


def test_policy_editor_accepts_bonus_bounds(owner_client, shop):
    return_policy_for(shop)

    for bonus in ("0", "100"):
        response = owner_client.post(
            reverse(POLICY), policy_post(shop, **{"policy-store_credit_bonus_percent": bonus})
        )
        assert response.status_code == 302, bonus
        assert ReturnPolicy.objects.get(shop=shop).store_credit_bonus_percent == Decimal(bonus)


def test_policy_editor_refuses_no_resolution_and_saves_nothing(owner_client, shop):
    return_policy_for(shop)

    response = owner_client.post(
        reverse(POLICY),
        policy_post(
            shop,
            **{
                "window-return_window_days": "60",
                "policy-offers_exchange": None,
                "policy-offers_store_credit": None,
                "policy-offers_refund": None,
            },
        ),
    )

    assert response.status_code == 400
    assert "Offer at least one resolution." in response.text
    shop.refresh_from_db()
    assert shop.return_window_days == 30


def test_policy_editor_offers_only_the_shops_products(owner_client, shop, other_shop):
    theirs = ProductFactory(shop=other_shop, title="Not ours")
    return_policy_for(shop)

    response = owner_client.post(
        reverse(POLICY), policy_post(shop, **{"policy-non_returnable_products": [theirs.pk]})
    )

    assert response.status_code == 400
    assert "non_returnable_products" in response.context["policy_form"].errors


def test_queue_query_count_does_not_grow_with_the_returns(staff_client, shop, policy):
    line = delivered_line(shop, quantity=30)
    file_return(line)
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse(QUEUE))
    for _ in range(20):
        file_return(line)
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(reverse(QUEUE))

    assert len(response.context["returns"]) == 21
    assert len(many) == len(one)


# The order page --------------------------------------------------------------------------------


def _order_page(client, order) -> str:
    response = client.get(reverse("dashboard:order_detail", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_order_page_lists_its_returns_with_state_items_and_link(staff_client, shop, policy):
    line = delivered_line(shop, quantity=2)
    line.title = "Linen shirt"
    line.save(update_fields=["title"])
    first = file_return(line)
    second = return_request_approve(return_request=file_return(line, reason="changed_mind"))
    other_order_return = file_return(delivered_line(shop))

    page = _order_page(staff_client, line.order)

    for rr, label, tone in ((first, "Requested", "attention"), (second, "Approved", "info")):
        detail = reverse("returns_dashboard:detail", args=[rr.pk])
        assert f'<a href="{detail}">{rr.rma}</a>' in page
        chip = f'<span class="status-chip status-chip--{tone}">{label}</span>'
        assert re.search(rf"{re.escape(rr.rma)}</a>.*?{chip}", page, flags=re.S)
    assert "1 × Linen shirt" in page
    assert other_order_return.rma not in page


def test_order_page_without_returns_says_so(staff_client, shop):
    page = _order_page(staff_client, OrderFactory(shop=shop))

    assert re.search(r'<div class="empty">\s*<p>No returns for this order\.', page)


def test_exchange_order_and_its_original_link_to_each_other(staff_client, shop, policy, staff):
    product = ProductFactory(shop=shop)
    small = VariantFactory(product=product, title="S")
    medium = VariantFactory(product=product, title="M", inventory_quantity=3)
    line = delivered_line(shop, product=product)
    line.variant = small
    line.save(update_fields=["variant"])
    request = file_return(line, resolution="exchange", exchange_variant_id=medium.pk)
    request = return_request_receive(
        return_request=return_request_approve(return_request=request), actor=staff
    )
    request = return_request_inspect(
        return_request=request,
        actor=staff,
        inspections={item.pk: Inspection("resellable") for item in request.items.all()},
    )
    exchange = return_request_resolve(return_request=request, actor=staff).exchange_order

    original_page = _order_page(staff_client, line.order)
    exchange_page = _order_page(staff_client, exchange)

    exchange_url = reverse("dashboard:order_detail", args=[exchange.pk])
    original_url = reverse("dashboard:order_detail", args=[line.order.pk])
    return_url = reverse("returns_dashboard:detail", args=[request.pk])
    assert f'Exchange order <a href="{exchange_url}">{exchange.number}</a>' in original_page
    assert f'<a href="{original_url}">{line.order.number}</a>' in exchange_page
    assert f'<a href="{return_url}">{request.rma}</a>' in exchange_page
    assert "This order replaces the items of return" in exchange_page


@pytest.mark.parametrize("form", [str.lower, str.upper, lambda rma: f"#{rma.lower()}"])
def test_queue_search_ignores_case_and_a_leading_hash(staff_client, shop, policy, form):
    wanted = file_return(delivered_line(shop))
    file_return(delivered_line(shop))

    by_rma = staff_client.get(reverse(QUEUE), {"q": form(wanted.rma)})
    by_order = staff_client.get(reverse(QUEUE), {"q": form(wanted.order.number)})

    assert list(by_rma.context["returns"]) == [wanted]
    assert list(by_order.context["returns"]) == [wanted]
