"""The returns' numbers on the dashboard's overview (registered in `ReturnsConfig.ready`),
each counted by the queue's own selector, so it equals the queue it links to."""

from urllib.parse import urlencode

from django.urls import reverse

from orders.dashboard.figures import Figure
from orders.models import Shop
from returns.dashboard.selectors import return_list_for_shop
from returns.models import ReturnStatus


def returns_to_decide(shop: Shop) -> Figure:
    status = ReturnStatus.REQUESTED
    return Figure(
        count=return_list_for_shop(shop=shop, status=status).count(),
        url=f"{reverse('returns_dashboard:queue')}?{urlencode({'status': status})}",
    )
