"""Orders to review, photos to upload and reviews ready made, for the feedback tests."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from feedback.models import Review
from feedback.reviews.services import ReviewDraft, review_submit
from orders.models import OrderStatus
from tests.factories import LineItemFactory, OrderFactory, ProductFactory, VariantFactory

GOOD_TEXT = "The fabric is soft, the fit is true to size and it washes well."


def delivered_order(shop, *, products=1, status=OrderStatus.DELIVERED, **fields):
    order = OrderFactory(
        shop=shop, status=status, delivered_at=timezone.now() - timedelta(days=2), **fields
    )
    for _ in range(products):
        add_line(order)
    return order


def add_line(order, *, product=None, quantity=1, gtin="", sku=None):
    variant = VariantFactory(
        product=product or ProductFactory(shop=order.shop), price=Decimal("30.00"), gtin=gtin
    )
    if sku is not None:
        variant.sku = sku
        variant.save(update_fields=["sku"])
    return LineItemFactory(
        order=order,
        product=variant.product,
        variant=variant,
        title=variant.product.title,
        unit_price=Decimal("30.00"),
        quantity=quantity,
    )


def jpeg_bytes(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def jpeg_upload(name="photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kwargs), content_type="image/jpeg")


def review(order, *, line=None, rating=5, body=GOOD_TEXT, title="", **fields) -> Review:
    line = line or order.line_items.order_by("pk").first()
    draft = ReviewDraft(line_item_id=line.pk, rating=rating, title=title, body=body, **fields)
    return review_submit(order=order, draft=draft)
