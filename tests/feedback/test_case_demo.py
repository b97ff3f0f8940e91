"""The demo shop comes with cases in every state, their threads and histories in the past and
in order."""

import pytest
from django.utils import timezone

from feedback.cases.selectors import case_list_for_shop
from feedback.models import Case, CaseStatus
from orders.demo import demo_seed
from orders.models import Shop

pytestmark = pytest.mark.django_db


def test_the_demo_has_cases_in_every_state_with_their_threads():
    demo_seed(scale=0.1, seed=7)
    shop = Shop.objects.get(slug="demo")
    now = timezone.now()

    cases = Case.objects.filter(shop=shop)
    assert {c.status for c in cases} == set(CaseStatus.values)
    closed = cases.filter(status=CaseStatus.CLOSED)
    assert closed.filter(made_right=True).exists()
    assert cases.filter(made_right=False, status=CaseStatus.OPEN).exists()
    for state in ("on_time", "due_soon", "breached", "paused"):
        assert case_list_for_shop(shop=shop, sla=state).exists(), state
    for case in cases:
        moments = [e.at for e in case.events.all()] + [m.created_at for m in case.thread.all()]
        assert all(m <= now for m in moments), case.pk
        events = [e.at for e in case.events.order_by("pk")]
        assert events == sorted(events), case.pk
        assert case.created_at == events[0]
    assert closed.filter(thread__direction="in").exists()
