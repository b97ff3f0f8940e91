"""The demo shop comes with its returns policy and a year of returns for the queue and report."""

import pytest

from orders.demo import demo_seed
from orders.models import Shop
from returns.models import OPEN_STATUSES, ReturnRequest, ReturnStatus, StoreCreditEntry

pytestmark = pytest.mark.django_db


def test_the_demo_has_returns_open_and_resolved_with_a_troubled_product():
    demo_seed(scale=0.1, seed=7)
    shop = Shop.objects.get(slug="demo")

    returns = ReturnRequest.objects.filter(shop=shop)
    assert returns.filter(status=ReturnStatus.RESOLVED).count() > 10
    assert returns.filter(status__in=OPEN_STATUSES).exists()  # for the queue
    assert shop.return_policy.non_returnable_products.count() == 2
    assert all(r.items.count() == 1 for r in returns[:20])
    credits = returns.filter(status=ReturnStatus.RESOLVED, items__resolution="store_credit")
    assert StoreCreditEntry.objects.filter(return_request__in=credits).count() == credits.count()
    assert not returns.filter(events__isnull=True).exists()
