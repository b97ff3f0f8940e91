from datetime import timedelta

import time_machine
from django.utils import timezone

from feedback.tokens import VALID_FOR, feedback_url, order_id_from_token, order_token
from tests.factories import OrderFactory


def test_a_token_names_its_order(db):
    order = OrderFactory()
    assert order_id_from_token(order_token(order)) == order.pk


def test_a_changed_or_made_up_token_names_nothing(db):
    token = order_token(OrderFactory())
    assert order_id_from_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert order_id_from_token("1") is None
    assert order_id_from_token("") is None


def test_a_token_stops_working_after_180_days(db):
    order = OrderFactory()
    token = order_token(order)
    with time_machine.travel(timezone.now() + VALID_FOR - timedelta(minutes=1)):
        assert order_id_from_token(token) == order.pk
    with time_machine.travel(timezone.now() + VALID_FOR + timedelta(minutes=1)):
        assert order_id_from_token(token) is None


def test_links_name_the_survey_or_the_review_page(db, settings):
    settings.PUBLIC_BASE_URL = "https://engage.example.com"
    order = OrderFactory()
    assert feedback_url(order) == f"https://engage.example.com/feedback/{order_token(order)}/"
    assert feedback_url(order, "review/").endswith("/review/")
