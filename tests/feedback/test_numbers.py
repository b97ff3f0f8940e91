"""The feedback numbers page: counted into daily rollups, read from them only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackDayRollup, Review, SurveyAnswer
from feedback.models.surveys import SurveyRequest
from feedback.numbers.rollups import rollups_recent_refresh, shop_rollups_rebuild
from feedback.numbers.selectors import Period, feedback_numbers
from orders.services import shipment_tracking_info_update
from tests.factories import ShipmentFactory
from tests.feedback.helpers import delivered_order

URL = "/dashboard/feedback/"


def answer(shop, score, *, kind="nps", channel="email", days_ago=5, sent=True, order=None):
    """A survey sent `days_ago` days ago and answered the same moment."""
    order = order or delivered_order(shop)
    at = timezone.now() - timedelta(days=days_ago)
    request = SurveyRequest.objects.create(
        shop=shop,
        order=order,
        customer=order.customer,
        kind=kind,
        status="answered",
        due_at=at,
        channel=channel,
        sent_at=at if sent else None,
        answered_at=at,
    )
    return SurveyAnswer.objects.create(
        request=request,
        shop=shop,
        customer=order.customer,
        kind=kind,
        score=score,
        channel=channel,
        answered_at=at,
    )


def sent_only(shop, *, channel="email", days_ago=5):
    order = delivered_order(shop)
    at = timezone.now() - timedelta(days=days_ago)
    return SurveyRequest.objects.create(
        shop=shop,
        order=order,
        customer=order.customer,
        kind="nps",
        status="sent",
        due_at=at,
        channel=channel,
        sent_at=at,
    )


def a_review(shop, rating, status, *, days_ago=5):
    order = delivered_order(shop)
    line = order.line_items.first()
    return Review.objects.create(
        shop=shop,
        order=order,
        line_item=line,
        product=line.variant.product,
        customer=order.customer,
        rating=rating,
        body="fine",
        author_name="Ann",
        status=status,
        submitted_at=timezone.now() - timedelta(days=days_ago),
    )


def last(shop, days=30) -> Period:
    today = shop.today()
    return Period(today - timedelta(days=days - 1), today)


def rollup_rows(shop):
    return list(FeedbackDayRollup.objects.filter(shop=shop).order_by("day").values("day", "counts"))


@pytest.mark.django_db
def test_nps_from_a_hand_built_set_and_its_change(shop):
    for score in (9, 9, 10, 10, 9, 10):
        answer(shop, score)
    for score in (7, 8):
        answer(shop, score)
    for score in (3, 6):
        answer(shop, score)
    # The 30 days before: 1 promoter, 1 detractor → 0.
    answer(shop, 10, days_ago=40)
    answer(shop, 2, days_ago=40)
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    assert numbers.current.nps == 40
    assert numbers.previous.nps == 0
    assert numbers.current.bucket("promoter") == 6
    assert numbers.current.bucket("detractor") == 2


@pytest.mark.django_db
def test_csat_and_ces_when_the_shop_has_them(shop):
    for score in (5, 4, 2, 1):
        answer(shop, score, kind="csat_delivery")
    for score in (2, 3):
        answer(shop, score, kind="ces")
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    assert str(numbers.current.csat) == "50.0"
    assert str(numbers.current.ces) == "2.50"


@pytest.mark.django_db
def test_publish_rate_by_star_equals_the_hand_built_truth(shop):
    truth = {1: (3, 4), 5: (6, 8)}  # stars: (published, submitted)
    for stars, (published, submitted) in truth.items():
        for i in range(submitted):
            a_review(shop, stars, "published" if i < published else "held")
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    assert str(numbers.current.publish_rate(1)) == "75.0"
    assert str(numbers.current.publish_rate(5)) == "75.0"
    assert numbers.current.publish_rate(3) is None
    assert numbers.current.reviews == 12


@pytest.mark.django_db
def test_response_rate_by_channel(shop):
    answer(shop, 9, channel="email")
    sent_only(shop, channel="email")
    sent_only(shop, channel="email")
    sent_only(shop, channel="email")
    answer(shop, 9, channel="sms")
    sent_only(shop, channel="sms")
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    assert str(numbers.current.response_rate("email")) == "25.0"
    assert str(numbers.current.response_rate("sms")) == "50.0"
    assert str(numbers.current.kind_rate("nps")) == "33.3"


@pytest.mark.django_db
def test_nps_split_by_late_or_on_time_delivery(shop):
    def delivered(score, *, late):
        order = delivered_order(shop)
        estimate = shop.today() - timedelta(days=12)
        arrived = timezone.now() - timedelta(days=10 if late else 14)
        ShipmentFactory(
            shop=shop, order=order, estimated_delivery_date=estimate, delivered_at=arrived
        )
        answer(shop, score, order=order)

    delivered(2, late=True)
    delivered(3, late=True)
    delivered(9, late=True)
    delivered(10, late=False)
    delivered(9, late=False)
    answer(shop, 5)  # no shipment with an estimate: in neither group
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    assert numbers.current.delivery_split("late") == (-33, 3)
    assert numbers.current.delivery_split("ontime") == (100, 2)


@pytest.mark.django_db
def test_late_or_on_time_is_judged_against_the_first_promised_date(shop):
    promised = shop.today() - timedelta(days=12)
    order = delivered_order(shop)
    shipment = ShipmentFactory(shop=shop, order=order)
    shipment_tracking_info_update(shipment=shipment, estimated_delivery_date=promised)
    # The parcel ran two days late, and the carrier moved its estimate along with it.
    shipment_tracking_info_update(
        shipment=shipment, estimated_delivery_date=promised + timedelta(days=2)
    )
    shipment.delivered_at = timezone.now() - timedelta(days=10)
    shipment.save(update_fields=["delivered_at"])
    answer(shop, 3, order=order)
    shop_rollups_rebuild(shop)

    numbers = feedback_numbers(shop, last(shop))

    shipment.refresh_from_db()
    assert shipment.estimated_delivery_date == promised + timedelta(days=2)
    assert shipment.first_estimated_delivery_date == promised
    assert numbers.current.delivery_split("late") == (-100, 1)
    assert numbers.current.delivery_split("ontime")[1] == 0


@pytest.mark.django_db
def test_the_recount_is_idempotent_and_picks_up_a_late_arriving_answer(shop):
    answer(shop, 9, days_ago=1)
    rollups_recent_refresh(shops=[shop])
    first = rollup_rows(shop)
    rollups_recent_refresh(shops=[shop])
    assert rollup_rows(shop) == first
    assert FeedbackDayRollup.objects.filter(shop=shop).count() == 1

    answer(shop, 0, days_ago=1)
    rollups_recent_refresh(shops=[shop])

    assert feedback_numbers(shop, last(shop)).current.nps == 0
    assert FeedbackDayRollup.objects.filter(shop=shop).count() == 1


@pytest.mark.django_db
def test_the_rebuild_twice_gives_the_same_rows(shop):
    answer(shop, 9, days_ago=100)
    answer(shop, 3, days_ago=2)
    a_review(shop, 4, "published", days_ago=50)
    shop_rollups_rebuild(shop)
    first = rollup_rows(shop)
    shop_rollups_rebuild(shop)
    assert rollup_rows(shop) == first
    assert len(first) == 3


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_page_makes_the_same_number_of_queries_whatever_the_data(staff_client, shop):
    answer(shop, 9)
    a_review(shop, 5, "published")
    shop_rollups_rebuild(shop)
    small = _page_queries(staff_client)

    for days_ago in range(1, 60, 3):
        answer(shop, days_ago % 11, days_ago=days_ago, channel="sms" if days_ago % 2 else "email")
        a_review(shop, 1 + days_ago % 5, "held", days_ago=days_ago)
    shop_rollups_rebuild(shop)

    assert _page_queries(staff_client) == small


@pytest.mark.django_db
def test_an_empty_shop_shows_the_empty_state(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert "No feedback in this period yet" in response.content.decode()


@pytest.mark.django_db
def test_the_page_shows_the_numbers_as_text_with_their_change(staff_client, shop):
    for score in (10, 10, 10, 1):
        answer(shop, score)
    answer(shop, 1, days_ago=40)
    a_review(shop, 1, "published")
    shop_rollups_rebuild(shop)

    page = staff_client.get(URL, {"days": 30}).content.decode()

    assert 'id="kpi-nps-value">50<' in page
    assert "Up from none" in page or "Up " in page
    assert "on the previous 30 days" in page
    assert "Promoters: 75.0 % (3)" in page
    assert 'aria-current="page">Numbers' in page


@pytest.mark.django_db
def test_a_custom_range_in_the_shops_days(staff_client, shop):
    answer(shop, 10, days_ago=5)
    shop_rollups_rebuild(shop)
    today = shop.today()
    # Two days, and the two before them: the answer is in neither.
    since = (today - timedelta(days=1)).isoformat()
    page = staff_client.get(URL, {"since": since, "until": today.isoformat()}).content.decode()
    assert "No feedback in this period yet" in page

    since = (today - timedelta(days=6)).isoformat()
    page = staff_client.get(URL, {"since": since, "until": today.isoformat()}).content.decode()
    assert 'id="kpi-nps-value">100<' in page
    assert "on the previous 7 days" in page


@pytest.mark.django_db
def test_the_feedback_section_opens_on_the_numbers(staff_client):
    page = staff_client.get(reverse("feedback_cases:queue")).content.decode()
    assert f'href="{URL}"' in page
    assert 'aria-current="page">Cases' in page


@pytest.mark.django_db
def test_the_demo_shops_numbers_show_its_year(client):
    from orders.demo import demo_seed
    from orders.models import Shop

    demo_seed(scale=0.3, seed=7)
    shop = Shop.objects.get(slug="demo")
    year = feedback_numbers(shop, last(shop, 365))

    all_nps = SurveyAnswer.objects.filter(shop=shop, kind="nps").count()
    assert 0.9 * all_nps <= year.current.nps_answers <= all_nps
    assert year.current.reviews > 0
    assert year.current["cases_opened"] > 0
