"""Who hears of a text a customer sends us: apps above the engine (the text analysis in
`feedback`) subscribe from their `ready()`, since the engine imports none of them.

Each subscriber is called with the stored text as plain values, in the inbound webhook's
transaction, after STOP, START and HELP were acted on; each inside its own savepoint, so one
that fails is logged and undoes neither the stored text, the opt-out, nor another
subscriber's work. A subscriber only listens: what the engine answers the sender is its own
business."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from postpurchase.redact import redacted_traceback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundText:
    inbound_id: int
    shop_id: int | None
    customer_id: int | None
    channel: str
    body: str
    # The compliance keyword the text amounts to: "stop", "start", "help" or "".
    keyword: str
    received_at: datetime


InboundSubscriber = Callable[[InboundText], object]
# Subscriber key → handler; the key names it in the log.
subscribers: dict[str, InboundSubscriber] = {}


def inbound_subscribe(key: str, handler: InboundSubscriber) -> None:
    subscribers[key] = handler


def inbound_unsubscribe(key: str) -> None:
    subscribers.pop(key, None)


def inbound_text_announce(text: InboundText) -> list[str]:
    """Hand the text to every subscriber; returns the keys of those that handled it."""
    handled = []
    for key, handler in list(subscribers.items()):
        try:
            with transaction.atomic():
                handler(text)
        except Exception as exc:
            # The error may quote the text: the log gets it masked.
            logger.error(
                "inbound subscriber %s failed on text %s\n%s",
                key,
                text.inbound_id,
                redacted_traceback(exc),
            )
            continue
        handled.append(key)
    return handled
