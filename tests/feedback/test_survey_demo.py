"""The demo shop comes with its survey settings and a year of surveys: mostly NPS, a
realistic spread, texts answered more often than emails, every moment in the past and in order,
within the contact budget."""

from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from feedback.models import SurveyAnswer, SurveyRequest, SurveySettings
from orders.demo import demo_seed
from orders.models import OrderStatus, Shop

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_year_of_surveys_that_read_true():
    demo_seed(scale=0.3, seed=7)
    shop = Shop.objects.get(slug="demo")
    now = timezone.now()

    assert SurveySettings.objects.get(shop=shop).kind == "nps"
    requests = list(SurveyRequest.objects.filter(shop=shop).select_related("order"))
    answers = list(SurveyAnswer.objects.filter(shop=shop).select_related("request"))
    assert len(requests) > 100
    assert len(answers) > 20
    kinds = Counter(a.kind for a in answers)
    assert kinds.most_common(1)[0][0] == "nps"
    nps = [a.score for a in answers if a.kind == "nps"]
    promoters = sum(s >= 9 for s in nps) / len(nps)
    detractors = sum(s <= 6 for s in nps) / len(nps)
    assert 0.45 < promoters < 0.75
    assert 0.05 < detractors < 0.3
    rate = {
        channel: sum(r.status == "answered" for r in requests if r.channel == channel)
        / max(1, sum(r.channel == channel for r in requests))
        for channel in ("email", "sms")
    }
    assert rate["sms"] > rate["email"] > 0
    assert any(a.comment for a in answers)
    for r in requests:
        assert r.order.status != OrderStatus.CANCELLED
        assert r.order.delivered_at < r.due_at <= r.sent_at < now
        for later in (r.opened_at, r.reminded_at, r.answered_at):
            assert later is None or r.sent_at < later < now
        assert r.reminded_at is None or r.opened_at is not None
    for a in answers:
        assert a.request.answered_at == a.answered_at
        assert a.commented_at is None or a.answered_at < a.commented_at < now
    by_customer: dict[int, list] = {}
    for r in sorted(requests, key=lambda r: r.due_at):
        by_customer.setdefault(r.customer_id, []).append(r.due_at)
    for dues in by_customer.values():
        assert all(b - a >= timedelta(days=30) for a, b in pairwise(dues))
