"""The buyer's review page: only a verified buyer of a delivered, kept item reviews it; one
review per product and order, edited through the same link with its history kept; bad photos
refused with nothing saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from feedback.models import Review, ReviewPhoto, ReviewRevision, ReviewStatus
from feedback.reviews import views
from feedback.reviews.selectors import reviewable_lines
from feedback.tokens import order_token
from orders.models import FinancialStatus, OrderStatus
from orders.tracking.ratelimit import RateLimit
from postpurchase.exceptions import DomainError
from tests.factories import ShipmentFactory, ShipmentItemFactory
from tests.feedback.helpers import (
    GOOD_TEXT,
    add_line,
    delivered_order,
    jpeg_bytes,
    jpeg_upload,
    review,
)
from tests.returns.test_dashboard import file_return, manual_policy

pytestmark = pytest.mark.django_db


def _url(order) -> str:
    return f"/feedback/{order_token(order)}/review/"


def _post(client, order, line, **fields):
    prefix = f"line-{line.pk}"
    data = {"line": line.pk, f"{prefix}-rating": "4", f"{prefix}-body": GOOD_TEXT}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return client.post(_url(order), data)


def test_the_page_lists_each_delivered_product_once_with_no_star_chosen(client, shop):
    order = delivered_order(shop, products=2)
    first = order.line_items.order_by("pk").first()
    add_line(order, product=first.product)  # the same product on a second line

    response = client.get(_url(order))

    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["entries"]) == 2
    assert html.count("<fieldset") == 2
    assert html.count("<legend>") == 2
    assert 'type="radio"' in html
    assert " checked" not in html
    assert "Show my first name only" in html
    assert response["Cache-Control"] == "private, no-store"


def test_a_buyer_reviews_a_delivered_item_and_it_is_published(client, shop):
    order = delivered_order(shop)
    line = order.line_items.get()

    response = _post(client, order, line, title="Lovely", first_name_only="on")

    assert response.status_code == 303
    saved = Review.objects.get()
    assert (saved.order, saved.product, saved.rating) == (order, line.product, 4)
    assert saved.status == ReviewStatus.PUBLISHED
    assert saved.published_at is not None
    assert saved.author_name == order.customer.first_name
    assert "is published" in client.get(response["Location"]).content.decode()


def test_an_undelivered_order_offers_nothing_and_refuses_a_review(client, shop):
    order = delivered_order(shop, status=OrderStatus.SHIPPED)
    line = order.line_items.get()

    assert reviewable_lines(order) == []
    response = _post(client, order, line)

    assert response.status_code == 400
    assert not Review.objects.exists()


def test_only_the_delivered_parcel_of_a_split_order_is_offered(shop):
    order = delivered_order(shop, products=2, status=OrderStatus.SHIPPED)
    arrived, travelling = order.line_items.order_by("pk")
    ShipmentItemFactory(
        shipment=ShipmentFactory(order=order, status="delivered"), line_item=arrived
    )
    ShipmentItemFactory(
        shipment=ShipmentFactory(order=order, status="in_transit"), line_item=travelling
    )

    assert [entry.line for entry in reviewable_lines(order)] == [arrived]


def test_another_orders_token_cannot_review_this_orders_item(client, shop):
    order = delivered_order(shop)
    other = delivered_order(shop)

    response = _post(client, other, order.line_items.get())

    assert response.status_code == 400
    assert not Review.objects.exists()
    with pytest.raises(DomainError):
        review(other, line=order.line_items.get())


def test_a_returned_item_is_left_out(client, shop):
    manual_policy(shop)
    order = delivered_order(shop, products=2)
    returned, kept = order.line_items.order_by("pk")
    file_return(returned)

    assert [entry.line for entry in reviewable_lines(order)] == [kept]
    assert _post(client, order, returned).status_code == 400
    assert not Review.objects.exists()


def test_a_refunded_order_offers_nothing(shop):
    order = delivered_order(shop, financial_status=FinancialStatus.REFUNDED)

    assert reviewable_lines(order) == []


def test_a_bad_or_expired_token_gets_a_friendly_404(client):
    response = client.get("/feedback/not-a-token/review/")

    assert response.status_code == 404
    assert "This review link does not work" in response.content.decode()


def test_one_review_per_product_and_order_in_the_database(shop):
    order = delivered_order(shop)
    first = review(order)

    with pytest.raises(IntegrityError):
        Review.objects.create(
            shop=shop,
            order=order,
            line_item=first.line_item,
            product=first.product,
            rating=1,
            body="again",
            author_name="x",
            status=ReviewStatus.PUBLISHED,
            submitted_at=first.submitted_at,
        )


def test_an_edit_through_the_same_link_keeps_the_earlier_version(client, shop):
    order = delivered_order(shop)
    line = order.line_items.get()
    _post(client, order, line, title="First")

    page = client.get(_url(order)).content.decode()
    assert "First" in page
    assert "Save my changes" in page
    _post(client, order, line, rating="2", title="Second thoughts")

    saved = Review.objects.get()
    assert (saved.rating, saved.title, saved.edited_at is not None) == (2, "Second thoughts", True)
    old = ReviewRevision.objects.get(review=saved)
    assert (old.rating, old.title) == (4, "First")
    assert list(saved.events.values_list("to_status", flat=True)) == ["published", "published"]


def test_photos_are_re_encoded_and_kept(client, shop):
    order = delivered_order(shop)
    line = order.line_items.get()

    response = _post(client, order, line, photos=[jpeg_upload(), jpeg_upload("b.jpg")])

    assert response.status_code == 303
    photos = ReviewPhoto.objects.filter(review__order=order)
    assert photos.count() == 2
    assert all(bytes(p.data)[:2] == b"\xff\xd8" for p in photos)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpg", b"plain text, not a photo at all\n" * 20, "image/jpeg"),
        ("photo.gif", b"GIF89a" + b"\x00" * 64, "image/gif"),
        ("photo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        ("photo.jpg", jpeg_bytes() + b"\x00" * (5 * 1024 * 1024), "image/jpeg"),
    ],
    ids=["not-an-image", "wrong-type", "svg", "too-large"],
)
def test_a_bad_photo_is_refused_with_a_clear_message_and_nothing_saved(
    client, shop, name, content, content_type
):
    order = delivered_order(shop)
    line = order.line_items.get()
    upload = SimpleUploadedFile(name, content, content_type=content_type)

    response = _post(client, order, line, photos=[jpeg_upload(), upload])

    assert response.status_code == 400
    assert "Choose a JPEG, PNG or WebP photo under 5 MB." in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert not Review.objects.exists()
    assert not ReviewPhoto.objects.exists()


def test_a_decompression_bomb_is_refused(client, shop, monkeypatch):
    from orders import photos

    monkeypatch.setattr(photos, "PHOTO_MAX_PIXELS", 100 * 100)
    order = delivered_order(shop)
    upload = jpeg_upload(size=(200, 200))

    response = _post(client, order, order.line_items.get(), photos=[upload])

    assert response.status_code == 400
    assert not Review.objects.exists()


def test_too_many_photos_are_refused(client, shop, settings):
    settings.FEEDBACK_REVIEW_PHOTOS_MAX = 1
    order = delivered_order(shop)

    response = _post(client, order, order.line_items.get(), photos=[jpeg_upload(), jpeg_upload()])

    assert response.status_code == 400
    assert "at most 1 photo" in response.content.decode()
    assert not Review.objects.exists()


def test_submissions_are_rate_limited(client, shop, monkeypatch):
    monkeypatch.setattr(
        views, "SUBMIT_LIMIT_PER_ORDER", RateLimit(f"test-review-{shop.pk}", limit=1, window=60)
    )
    order = delivered_order(shop)
    line = order.line_items.get()

    assert _post(client, order, line).status_code == 303
    response = _post(client, order, line, rating="1")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Review.objects.get().rating == 4


def test_the_page_speaks_the_customers_language(client, shop):
    order = delivered_order(shop, customer__locale="de")

    response = client.get(_url(order))

    assert response["Content-Language"] == "de"
    assert "Bestellung" in response.content.decode()
    assert "Nur meinen Vornamen zeigen" in response.content.decode()


def test_the_same_review_sent_twice_is_kept_once(client, shop):
    order = delivered_order(shop)
    line = order.line_items.get()

    _post(client, order, line, title="Same")
    _post(client, order, line, title="Same")

    saved = Review.objects.get()
    assert not saved.revisions.exists()
    assert saved.events.count() == 1
