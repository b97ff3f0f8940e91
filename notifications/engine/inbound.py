"""Texts customers send that another app may be waiting for: a survey's score, a reply to a
follow-up case. The engine knows none of them; an app registers a handler from its
`AppConfig.ready()` and the inbound webhook offers it each text after STOP, START and HELP
were dealt with (a keyword is never offered: a STOP is still a STOP).

Handlers are asked in the order they were registered, until one takes the text: `feedback`
registers its survey replies' handler before its cases' one, so "9" answers an open survey
before it lands in a case. A handler returns True when it consumed the text, or the short
reply to text back (which also consumes it), else False. Each runs in a savepoint: one that
fails is logged and passed over, and the text is still stored for staff."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from postpurchase.redact import redacted_traceback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundText:
    """A customer's text as the handlers receive it: plain values only."""

    inbound_id: int
    # The shop it is addressed to (its own number, else the one that last texted the sender);
    # None when no shop knows the sender.
    shop_id: int | None
    customer_id: int | None
    channel: str  # "sms" or "whatsapp"
    sender: str  # E.164, without "whatsapp:"
    body: str
    provider_message_id: str
    received_at: datetime


InboundTextHandler = Callable[[InboundText], bool | str]
_handlers: list[InboundTextHandler] = []


def register_inbound_text_handler(handler: InboundTextHandler) -> None:
    """Offer every non-keyword inbound text to `handler`, after the handlers registered before
    it. Registering the same handler again keeps its first place."""
    if handler not in _handlers:
        _handlers.append(handler)


def unregister_inbound_text_handler(handler: InboundTextHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def inbound_text_handlers() -> list[InboundTextHandler]:
    return list(_handlers)


def inbound_text_offer(text: InboundText) -> tuple[bool, str]:
    """Offer the text to each handler in turn; (consumed, reply to text back)."""
    for handler in list(_handlers):
        try:
            with transaction.atomic():
                taken = handler(text)
        except Exception as exc:
            name = f"{handler.__module__}.{handler.__qualname__}"
            logger.error("inbound text handler %s failed\n%s", name, redacted_traceback(exc))
            continue
        if taken:
            return True, taken if isinstance(taken, str) else ""
    return False, ""
