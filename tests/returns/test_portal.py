"""The customer's returns portal: find the order, choose items, review the exact amounts,
confirm once, follow the return, cancel it, print its slip."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from postpurchase.redis import redis_client
from postpurchase.tokens import new_public_token
from returns.models import ReturnEvent, ReturnItem, ReturnRequest, ReturnStatus
from returns.services import return_policy_for
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShopFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

NOT_FOUND = (
    "We could not find an order with those details. Check the order number and use the email "
    "address or postcode from your order."
)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def fresh_redis():
    """No attempts counted and no kept photos from another test (own Redis db per worker)."""
    redis_client().flushdb()
    yield
    redis_client().flushdb()


@pytest.fixture
def shop(db):
    return ShopFactory(name="Fern & Co", return_window_days=30)


@pytest.fixture
def order(shop):
    """Delivered two days ago, with a 10.00 order-level discount spread over three lines worth
    60.00, 40.00 and 20.00: 55.00, 36.67 and 18.33 after it (the odd cent to the largest
    remainder)."""
    return OrderFactory(
        shop=shop,
        number="#7001",
        email="ada@example.org",
        shipping_postcode="SW1A 1AA",
        status="delivered",
        delivered_at=timezone.now() - timedelta(days=2),
        discount_total=Decimal("10.00"),
    )


@pytest.fixture
def shirt(shop):
    return ProductFactory(shop=shop, title="Linen shirt")


@pytest.fixture
def medium(shirt):
    return VariantFactory(product=shirt, title="M", inventory_quantity=3)


@pytest.fixture
def large(shirt):
    return VariantFactory(product=shirt, title="L", inventory_quantity=5)


@pytest.fixture
def extra_large(shirt):
    return VariantFactory(product=shirt, title="XL", inventory_quantity=0)


@pytest.fixture
def lines(order, shirt, medium, large, extra_large):
    mug = ProductFactory(shop=order.shop, title="Stoneware mug")
    soap = ProductFactory(shop=order.shop, title="Lavender soap")
    shirt_line = LineItemFactory(
        order=order,
        product=shirt,
        variant=medium,
        title="Linen shirt",
        variant_title="M",
        quantity=2,
        unit_price=Decimal("30.00"),
    )
    mug_line = LineItemFactory(
        order=order, product=mug, title="Stoneware mug", quantity=1, unit_price=Decimal("40.00")
    )
    soap_line = LineItemFactory(
        order=order, product=soap, title="Lavender soap", quantity=1, unit_price=Decimal("20.00")
    )
    return_policy_for(order.shop).non_returnable_products.add(soap)  # hygiene: final sale
    return {"shirt": shirt_line, "mug": mug_line, "soap": soap_line}


def start_url(order) -> str:
    return reverse("returns:start", args=[order.tracking_token])


def detail_url(order, rma) -> str:
    return reverse("returns:detail", args=[order.tracking_token, rma])


def form_data(lines, key=None, step="review", **extra) -> dict:
    """Return one shirt for a refund (changed mind: 4.95 fee) and the mug for store credit."""
    shirt, mug = lines["shirt"].pk, lines["mug"].pk
    data = {
        "submission_key": key or new_public_token(),
        "method": "drop_off",
        "step": step,
        f"quantity_{shirt}": "1",
        f"reason_{shirt}": "changed_mind",
        f"resolution_{shirt}": "refund",
        f"quantity_{mug}": "1",
        f"reason_{mug}": "too_large",
        f"resolution_{mug}": "store_credit",
    }
    data.update(extra)
    return data


def png_upload(name="photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def hidden_fields(html: str) -> dict:
    """The review page's hidden fields, as the confirm step will send them."""
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: value for name, value in pairs if name != "csrfmiddlewaretoken"}


# --- lookup ----------------------------------------------------------------------------------


def look_up(client, number, contact, ip="192.0.2.10"):
    return client.post("/returns/", {"number": number, "contact": contact}, REMOTE_ADDR=ip)


def test_lookup_right_pair_leads_to_the_return_page(client, order):
    response = look_up(client, "7001", "ADA@example.org")

    assert response.status_code == 303
    assert response["Location"] == f"/returns/{order.tracking_token}/"


def test_lookup_wrong_pairs_all_get_the_same_answer(client, order):
    other = OrderFactory(number="#7002", email="bob@example.org")

    answers = [
        look_up(client, "7001", "someone@example.org"),  # right number, wrong email
        look_up(client, "7001", "N1 9GU"),  # right number, wrong postcode
        look_up(client, "9999", "ada@example.org"),  # no such order
        look_up(client, other.number, "ada@example.org"),  # another customer's order
        look_up(client, "", ""),  # nothing typed
    ]

    assert {answer.status_code for answer in answers} == {200}
    bodies = {_CSRF.sub("", answer.content.decode()) for answer in answers}
    assert len(bodies) == 1
    assert NOT_FOUND in bodies.pop()
    assert (
        answers[0]["Cache-Control"] == "private, no-store"
        or "no-store" in answers[0]["Cache-Control"]
    )
    assert answers[0]["X-Robots-Tag"] == "noindex, nofollow"
    assert answers[0]["Referrer-Policy"] == "same-origin"


def test_lookup_is_rate_limited_per_address_with_retry_after(client, order):
    for attempt in range(10):
        assert look_up(client, f"{8000 + attempt}", "x@example.org").status_code == 200

    response = look_up(client, "7001", "ada@example.org")  # even the right pair now

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()


# --- start page ------------------------------------------------------------------------------


def test_unknown_token_gets_the_not_found_page(client):
    response = client.get("/returns/not-a-real-token/")

    assert response.status_code == 404
    assert "This tracking link does not work" in response.content.decode()


def test_start_page_lists_returnable_lines_and_says_why_others_cannot_be(client, order, lines):
    response = client.get(start_url(order))

    assert response.status_code == 200
    html = response.content.decode()
    shirt, mug, soap = lines["shirt"].pk, lines["mug"].pk, lines["soap"].pk
    # Up to what was delivered, per line.
    shirt_select = re.search(rf'<select name="quantity_{shirt}".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\d+)"', shirt_select) == ["0", "1", "2"]
    assert f'name="quantity_{mug}"' in html
    # The final-sale soap has no fields, and says why.
    assert f'name="quantity_{soap}"' not in html
    assert "Final sale: this item cannot be returned." in html
    # Exchange first (another size is in stock), store credit with its bonus, refund last.
    offered = re.findall(rf'name="resolution_{shirt}" id="[^"]+" value="([a-z_]+)"', html)
    assert offered == ["exchange", "store_credit", "refund"]
    assert "Store credit (+10% bonus)" in html
    # Only in-stock other variants can be exchanged to.
    variant_select = re.search(rf'<select name="variant_{shirt}".*?</select>', html, re.S).group(0)
    assert ">L<" in variant_select
    assert ">XL<" not in variant_select
    assert ">M<" not in variant_select
    # No other size of the mug: no exchange offered for it.
    assert re.findall(rf'name="resolution_{mug}" id="[^"]+" value="([a-z_]+)"', html) == [
        "store_credit",
        "refund",
    ]
    assert 'name="submission_key"' in html
    assert "<script" not in html
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in html


def test_tracking_page_link_points_at_the_start_page(order):
    assert reverse("returns:start", args=[order.tracking_token]) == (
        f"/returns/{order.tracking_token}/"
    )


# --- review ----------------------------------------------------------------------------------


def test_review_shows_the_exact_amounts_after_the_order_discount_and_fee(client, order, lines):
    response = client.post(start_url(order), form_data(lines))

    assert response.status_code == 200
    html = response.content.decode()
    # Shirt: half of 55.00 = 27.50 refunded; mug: 36.67 as credit plus 10% = 40.34; the
    # changed-mind fee 4.95 comes off the refund: 22.55.
    assert 'id="value-total">64.17 USD<' in html
    assert 'id="fee-total">−4.95 USD<' in html
    assert 'id="refund-total">22.55 USD<' in html
    assert 'id="credit-total">40.34 USD<' in html
    assert "27.50 USD" in html
    assert "36.67 USD" in html
    assert "Confirm return" in html
    assert ReturnRequest.objects.count() == 0  # nothing filed by a review


def test_review_refuses_a_reason_that_needs_a_photo_without_one(client, order, lines):
    data = form_data(lines, **{f"reason_{lines['mug'].pk}": "damaged"})

    response = client.post(start_url(order), data)

    assert response.status_code == 400
    assert "A photo is needed for “Arrived damaged”." in response.content.decode()
    assert ReturnRequest.objects.count() == 0


# --- confirm ---------------------------------------------------------------------------------


def test_confirm_files_one_return_even_when_posted_twice(client, order, lines):
    review = client.post(start_url(order), form_data(lines))
    confirm = hidden_fields(review.content.decode()) | {"step": "confirm"}

    first = client.post(start_url(order), confirm)
    second = client.post(start_url(order), confirm)

    assert ReturnRequest.objects.count() == 1
    rr = ReturnRequest.objects.get()
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"] == detail_url(order, rr.rma)
    assert rr.refund_total == Decimal("22.55")
    assert rr.credit_total == Decimal("40.34")
    assert rr.fee_total == Decimal("4.95")
    assert sorted(rr.items.values_list("line_item_id", "quantity", "resolution")) == sorted(
        [(lines["shirt"].pk, 1, "refund"), (lines["mug"].pk, 1, "store_credit")]
    )


def test_confirm_without_the_photo_the_reason_requires_is_refused_and_saves_nothing(
    client, order, lines
):
    data = form_data(lines, step="confirm", **{f"reason_{lines['mug'].pk}": "defective"})

    response = client.post(start_url(order), data)

    assert response.status_code == 400
    assert "A photo is needed for “Defective”." in response.content.decode()
    assert ReturnRequest.objects.count() == 0
    assert ReturnItem.objects.count() == 0


def test_a_text_file_named_jpg_is_refused_and_nothing_saved(client, order, lines):
    fake = SimpleUploadedFile("damage.jpg", b"not a photo at all\n", content_type="image/jpeg")
    mug = lines["mug"].pk
    data = form_data(lines, **{f"reason_{mug}": "damaged", f"photo_{mug}": fake})

    response = client.post(start_url(order), data)

    assert response.status_code == 400
    assert "Choose a JPEG, PNG or WebP photo under 5 MB." in response.content.decode()
    assert ReturnRequest.objects.count() == 0


def test_a_photo_sent_with_the_review_is_kept_for_the_confirm_step(client, order, lines):
    mug = lines["mug"].pk
    data = form_data(lines, **{f"reason_{mug}": "damaged", f"photo_{mug}": png_upload()})

    review = client.post(start_url(order), data)
    assert review.status_code == 200
    confirm = hidden_fields(review.content.decode()) | {"step": "confirm"}
    response = client.post(start_url(order), confirm)

    assert response.status_code == 303
    item = ReturnItem.objects.get(line_item_id=mug)
    assert item.photo_content_type in ("image/jpeg", "image/png")
    assert Image.open(io.BytesIO(bytes(item.photo))).size == (40, 30)


def test_exchange_to_an_out_of_stock_variant_is_refused(client, order, lines, extra_large):
    shirt = lines["shirt"].pk
    data = form_data(
        lines,
        step="confirm",
        **{f"resolution_{shirt}": "exchange", f"variant_{shirt}": str(extra_large.pk)},
    )

    response = client.post(start_url(order), data)

    assert response.status_code == 400
    assert "is out of stock" in response.content.decode()
    assert ReturnRequest.objects.count() == 0


def test_exchange_to_an_in_stock_variant_is_filed(client, order, lines, large):
    shirt = lines["shirt"].pk
    data = form_data(
        lines, step="confirm", **{f"resolution_{shirt}": "exchange", f"variant_{shirt}": large.pk}
    )

    response = client.post(start_url(order), data)

    assert response.status_code == 303
    item = ReturnItem.objects.get(line_item_id=shirt)
    assert (item.resolution, item.exchange_variant_id) == ("exchange", large.pk)


# --- the return's page, cancel, slip ---------------------------------------------------------


@pytest.fixture
def filed(client, order, lines):
    response = client.post(start_url(order), form_data(lines, step="confirm"))
    assert response.status_code == 303
    return ReturnRequest.objects.get()


def test_detail_page_shows_status_history_items_and_instructions(client, order, filed):
    policy = return_policy_for(order.shop)
    policy.instructions = "Wrap glass items in paper."
    policy.save()

    response = client.get(detail_url(order, filed.rma))

    assert response.status_code == 200
    html = response.content.decode()
    assert filed.status == ReturnStatus.APPROVED  # the default policy approves at once
    assert 'id="return-status">Approved<' in html
    assert filed.rma in html
    assert "Requested" in html  # the history
    assert "Linen shirt" in html
    assert "Stoneware mug" in html
    assert 'id="refund-total">22.55 USD<' in html
    assert "Wrap glass items in paper." in html
    assert "carrier drop-off point" in html
    assert reverse("returns:slip", args=[order.tracking_token, filed.rma]) in html
    assert "Cancel this return" in html
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_start_page_lists_the_orders_returns(client, order, filed):
    html = client.get(start_url(order)).content.decode()

    assert f"Return {filed.rma}" in html
    assert detail_url(order, filed.rma) in html


def test_cancel_works_once(client, order, filed):
    first = client.post(detail_url(order, filed.rma))
    second = client.post(detail_url(order, filed.rma))

    filed.refresh_from_db()
    assert first.status_code == 303
    assert filed.status == ReturnStatus.CANCELLED
    assert second.status_code == 400
    assert "can no longer be cancelled" in second.content.decode()
    assert ReturnEvent.objects.filter(return_request=filed, to_status="cancelled").count() == 1
    page = client.get(detail_url(order, filed.rma)).content.decode()
    assert "Cancel this return" not in page
    # The items are free to be returned again.
    assert (
        f'name="quantity_{filed.items.first().line_item_id}"'
        in client.get(start_url(order)).content.decode()
    )


def test_another_orders_rma_is_not_found(client, order, filed):
    other = OrderFactory(shop=order.shop, status="delivered", delivered_at=timezone.now())

    assert client.get(detail_url(other, filed.rma)).status_code == 404
    assert client.post(detail_url(other, filed.rma)).status_code == 404
    slip = reverse("returns:slip", args=[other.tracking_token, filed.rma])
    assert client.get(slip).status_code == 404
    filed.refresh_from_db()
    assert filed.status == ReturnStatus.APPROVED


def test_slip_has_the_rma_items_address_and_a_qr_code(client, order, filed):
    policy = return_policy_for(order.shop)
    policy.return_address = "Returns dept.\n1 Mill Lane\nLeeds LS1 1AA"
    policy.save()

    response = client.get(reverse("returns:slip", args=[order.tracking_token, filed.rma]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="rma">{filed.rma}<' in html
    assert "<svg" in html
    assert "Fern &amp; Co" in html
    assert "1 Mill Lane" in html
    assert "Linen shirt" in html


def test_changing_the_choices_from_the_review_keeps_them(client, order, lines):
    review = client.post(start_url(order), form_data(lines))
    back = hidden_fields(review.content.decode()) | {"step": "edit"}

    response = client.post(start_url(order), back)

    assert response.status_code == 200
    html = response.content.decode()
    shirt = lines["shirt"].pk
    assert re.search(rf'<select name="quantity_{shirt}"[^>]*>.*?value="1" selected', html, re.S)
    assert re.search(rf'name="resolution_{shirt}" id="[^"]+" value="refund" checked', html)
    assert f'value="{back["submission_key"]}"' in html  # the same one-time key
    assert "something needs fixing" not in html
    assert ReturnRequest.objects.count() == 0


def test_an_exchange_alone_shows_no_fee_and_no_money_back(client, order, lines, large):
    shirt = lines["shirt"].pk
    data = {
        "submission_key": new_public_token(),
        "method": "drop_off",
        "step": "review",
        f"quantity_{shirt}": "1",
        f"reason_{shirt}": "changed_mind",
        f"resolution_{shirt}": "exchange",
        f"variant_{shirt}": str(large.pk),
    }

    html = client.post(start_url(order), data).content.decode()

    assert "Exchange for another size or colour: L" in html
    assert 'id="fee-total"' not in html
    assert 'id="refund-total"' not in html
    assert 'id="credit-total"' not in html


# --- what the policy allows, offered before the customer submits -----------------------------


def methods_offered(html: str) -> list[str]:
    return re.findall(r'name="method" id="[^"]+" value="([a-z_]+)"', html)


def keep_items_up_to(shop, limit: str) -> None:
    policy = return_policy_for(shop)
    policy.methods = ["drop_off", "keep_item"]
    policy.keep_item_max_value = Decimal(limit)
    policy.save(update_fields=["methods", "keep_item_max_value"])


def test_keeping_the_item_is_not_offered_when_every_item_is_over_the_limit(client, order, lines):
    # One shirt is worth 27.50 and the mug 36.67 after the discount: neither may be kept.
    keep_items_up_to(order.shop, "20.00")

    html = client.get(start_url(order)).content.decode()

    assert methods_offered(html) == ["drop_off"]
    assert "Keep the item" not in html


def test_keeping_the_item_is_never_offered_with_a_limit_of_zero(client, order, lines):
    keep_items_up_to(order.shop, "0.00")

    assert methods_offered(client.get(start_url(order)).content.decode()) == ["drop_off"]


def test_keeping_the_item_is_offered_with_its_limit_when_an_item_is_under_it(client, order, lines):
    keep_items_up_to(order.shop, "30.00")

    html = client.get(start_url(order)).content.decode()

    assert methods_offered(html) == ["drop_off", "keep_item"]
    assert "Only for items worth up to 30.00 USD" in html


def test_keeping_an_item_over_the_limit_is_refused_at_the_method_and_no_longer_offered(
    client, order, lines
):
    keep_items_up_to(order.shop, "30.00")
    mug = lines["mug"].pk
    data = {
        "submission_key": new_public_token(),
        "method": "keep_item",
        "step": "review",
        f"quantity_{mug}": "1",
        f"reason_{mug}": "too_large",
        f"resolution_{mug}": "refund",
    }

    response = client.post(start_url(order), data)

    assert response.status_code == 400
    html = response.content.decode()
    method_group = re.search(r"<legend>How will you send.*?</fieldset>", html, re.S).group(0)
    assert "Only items worth up to 30.00 USD can be kept" in method_group
    assert methods_offered(html) == ["drop_off"]
    assert ReturnRequest.objects.count() == 0


def test_keeping_an_item_under_the_limit_goes_to_the_review(client, order, lines):
    keep_items_up_to(order.shop, "30.00")
    shirt = lines["shirt"].pk
    data = {
        "submission_key": new_public_token(),
        "method": "keep_item",
        "step": "review",
        f"quantity_{shirt}": "1",
        f"reason_{shirt}": "changed_mind",
        f"resolution_{shirt}": "refund",
    }

    response = client.post(start_url(order), data)

    assert response.status_code == 200
    assert "Confirm return" in response.content.decode()


def test_back_from_the_review_offers_only_the_methods_that_fit_the_chosen_items(
    client, order, lines
):
    keep_items_up_to(order.shop, "30.00")
    # Both shirts (55.00) and the mug go back: too much to keep.
    review = client.post(
        start_url(order), form_data(lines, **{f"quantity_{lines['shirt'].pk}": "2"})
    )
    back = hidden_fields(review.content.decode()) | {"step": "edit"}

    html = client.post(start_url(order), back).content.decode()

    assert methods_offered(html) == ["drop_off"]


def test_a_line_with_no_resolution_on_offer_is_not_offered(client, order, lines):
    # Exchange only, and the mug has no other variant: nothing can be offered for it.
    policy = return_policy_for(order.shop)
    policy.offers_refund = policy.offers_store_credit = False
    policy.save(update_fields=["offers_refund", "offers_store_credit"])

    html = client.get(start_url(order)).content.decode()

    assert f'name="quantity_{lines["mug"].pk}"' not in html
    assert f'name="quantity_{lines["shirt"].pk}"' in html
    assert "No other size or colour is available to exchange this item for." in html


def test_an_item_in_an_open_return_says_so_and_returned_once_resolved(client, order, lines):
    mug = lines["mug"].pk
    data = {
        "submission_key": new_public_token(),
        "method": "drop_off",
        "step": "confirm",
        f"quantity_{mug}": "1",
        f"reason_{mug}": "too_large",
        f"resolution_{mug}": "refund",
    }
    assert client.post(start_url(order), data).status_code == 303
    filed = ReturnRequest.objects.get()

    html = client.get(start_url(order)).content.decode()
    assert "In an open return." in html
    assert "Already returned" not in html
    assert "Returned." not in html

    ReturnRequest.objects.filter(pk=filed.pk).update(status=ReturnStatus.RESOLVED)
    html = client.get(start_url(order)).content.decode()
    assert "In an open return." not in html
    assert "Returned." in html
