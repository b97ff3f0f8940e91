"""The messages' numbers on the dashboard's overview (registered in
`NotificationsConfig.ready`), each counted by the message log's own selector with the filters
of the link, so it equals the log it links to."""

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

from notifications.models import MessageStatus
from notifications.selectors import message_list_for_shop
from orders.dashboard.figures import Figure
from orders.models import Shop
from orders.selectors import overview_window_start


def _log(shop: Shop, *, state: str, created_from: date | None = None) -> Figure:
    messages = message_list_for_shop(shop=shop, state=state, created_from=created_from)
    query = {"state": state}
    if created_from is not None:
        query["created_from"] = created_from.isoformat()
    return Figure(
        count=messages.count(), url=f"{reverse('messaging:message_list')}?{urlencode(query)}"
    )


def messages_failed(shop: Shop) -> Figure:
    """Failed in the overview's 30 days: older failures are history, not work."""
    return _log(shop, state=MessageStatus.FAILED, created_from=overview_window_start(shop=shop))


def messages_held(shop: Shop) -> Figure:
    """Held for review, whenever: each waits for someone to decide."""
    return _log(shop, state=MessageStatus.HELD)
