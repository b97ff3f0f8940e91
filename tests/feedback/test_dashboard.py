"""The review queue: held reviews with why, decisions and replies from the review's page, the
publish rate by star; another shop's staff find nothing of this shop's."""

import pytest
from django.urls import reverse

from feedback.models import ReviewReply, ReviewStatus
from orders.models import StaffRole
from tests.access.world import held_review
from tests.factories import StaffMembershipFactory
from tests.feedback.helpers import delivered_order, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user)
    return client


def test_the_queue_shows_held_reviews_with_why_and_the_publish_rate(manager_client, shop):
    held = held_review(shop)
    review(delivered_order(shop), rating=5)

    response = manager_client.get(reverse("reviews_dashboard:queue"))

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["reviews"]) == [held]
    assert "Personal data (email, phone, address)" in html
    assert 'id="publish-rates"' in html
    rates = {row.stars: (row.submitted, row.published) for row in response.context["star_rates"]}
    assert rates[2] == (1, 0)
    assert rates[5] == (1, 1)


def test_publish_from_the_review_page_is_recorded(manager_client, shop):
    held = held_review(shop)
    url = reverse("reviews_dashboard:action", args=[held.pk, "publish"])

    response = manager_client.post(url, {"note": "Number is the shop's own"})

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == ReviewStatus.PUBLISHED
    page = manager_client.get(reverse("reviews_dashboard:detail", args=[held.pk])).content.decode()
    assert "Number is the shop&#x27;s own" in page


def test_a_reply_is_recorded_with_who_and_shown_on_the_storefront(client, shop):
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user
    client.force_login(agent)
    written = review(delivered_order(shop), rating=3)
    url = reverse("reviews_dashboard:action", args=[written.pk, "reply"])

    client.post(url, {"body": "Thank you, a new strap is on its way."})

    reply = ReviewReply.objects.get(review=written)
    assert reply.author == agent
    assert reply.revisions.get().author == agent
    client.logout()
    product = written.product
    json_url = f"/feedback/api/{shop.slug}/{product.external_id}/reviews.json"
    data = client.get(json_url).json()
    assert data["reviews"][0]["reply"]["body"] == "Thank you, a new strap is on its way."


def test_another_shops_staff_get_404_on_this_shops_reviews(client, shop, other_shop):
    held = held_review(shop)
    client.force_login(StaffMembershipFactory(shop=other_shop, role=StaffRole.OWNER).user)

    detail = client.get(reverse("reviews_dashboard:detail", args=[held.pk]))
    publish = client.post(reverse("reviews_dashboard:action", args=[held.pk, "publish"]))
    queue = client.get(reverse("reviews_dashboard:queue"), {"status": ""})

    assert detail.status_code == 404
    assert publish.status_code == 404
    assert list(queue.context["reviews"]) == []
    held.refresh_from_db()
    assert held.status == ReviewStatus.HELD


def test_the_incentive_is_set_by_a_manager(manager_client, shop):
    response = manager_client.post(
        reverse("reviews_dashboard:incentive"), {"kind": "points", "points": "25"}
    )

    assert response.status_code == 302
    assert review(delivered_order(shop), rating=1).incentive_points == 25
