"""Ops' admin for reviews: every page loads read-only, filters and search run, and publish and
reject are actions that go through the services and are recorded."""

import pytest
from django.urls import reverse

from feedback.models import (
    Review,
    ReviewIncentive,
    ReviewPhoto,
    ReviewReply,
    ReviewRevision,
    ReviewStatus,
)
from feedback.reviews.services import review_incentive_save, review_reply_save
from tests.access.world import held_review
from tests.feedback.helpers import delivered_order, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviews(shop, admin_user):
    held = held_review(shop)
    order = delivered_order(shop)
    published = review(order, rating=4, title="Good")
    review(order, line=order.line_items.get(), rating=3, title="Edited")  # a revision
    review_reply_save(review=published, actor=admin_user, body="Thanks!")
    review_incentive_save(shop=shop, actor=admin_user, kind="points", points=10)
    return held, published


def _url(model, view, *args):
    return reverse(f"admin:feedback_{model._meta.model_name}_{view}", args=args)


MODELS = [Review, ReviewPhoto, ReviewRevision, ReviewReply, ReviewIncentive]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_pages_load(admin_client, reviews, model):
    obj = model.objects.first()

    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200


def test_a_review_is_read_only_and_its_photo_bytes_stay_out(admin_client, reviews):
    held, _ = reviews

    text = admin_client.get(_url(Review, "change", held.pk)).text

    assert 'name="rating"' not in text
    assert "JFIF" not in text
    assert admin_client.get(_url(Review, "add")).status_code == 403


def test_filters_and_search(admin_client, reviews, shop):
    url = _url(Review, "changelist")

    by_rule = admin_client.get(url, {"rule": "personal_data"})
    by_state = admin_client.get(url, {"status__exact": "held", "rating__exact": "2"})
    by_shop = admin_client.get(url, {"shop__id__exact": shop.pk})
    by_text = admin_client.get(url, {"q": "strap"})

    assert by_rule.context["cl"].result_count == 1
    assert by_state.context["cl"].result_count == 1
    assert by_shop.context["cl"].result_count == 2
    assert by_text.context["cl"].result_count == 1


def test_publish_and_reject_actions_are_recorded(admin_client, admin_user, reviews):
    held, published = reviews
    url = _url(Review, "changelist")

    admin_client.post(url, {"action": "publish", "_selected_action": [held.pk]})
    admin_client.post(url, {"action": "reject_spam", "_selected_action": [published.pk]})

    held.refresh_from_db()
    published.refresh_from_db()
    assert held.status == ReviewStatus.PUBLISHED
    assert published.status == ReviewStatus.REJECTED
    assert published.rejected_rule == "spam"
    assert held.events.last().actor == admin_user
