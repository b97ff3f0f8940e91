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
from orders.selectors import overview_period_count, overview_window_start


def _log_url(*, state: str, created_from: date | None = None) -> str:
    query = {"state": state}
    if created_from is not None:
        query["created_from"] = created_from.isoformat()
    return f"{reverse('messaging:message_list')}?{urlencode(query)}"


def _log(shop: Shop, *, state: str, created_from: date | None = None) -> Figure:
    messages = message_list_for_shop(shop=shop, state=state, created_from=created_from)
    return Figure(count=messages.count(), url=_log_url(state=state, created_from=created_from))


def messages_failed(shop: Shop) -> Figure:
    """Failed in the overview's 30 days: older failures are history, not work. With the 30
    days before and the failures per day (one grouped query), for the card's change and line."""
    failed = message_list_for_shop(shop=shop, state=MessageStatus.FAILED)
    url = _log_url(state=MessageStatus.FAILED, created_from=overview_window_start(shop=shop))
    return Figure.over_period(overview_period_count(failed, "created_at", shop=shop), url)


def messages_held(shop: Shop) -> Figure:
    """Held for review, whenever: each waits for someone to decide."""
    return _log(shop, state=MessageStatus.HELD)
