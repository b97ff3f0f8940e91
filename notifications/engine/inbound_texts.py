"""What other apps do with a customer's text that is not a compliance keyword: a reply to a
survey ("9"), later a reply to a follow-up case. The engine stores every inbound text and acts on
STOP, START and HELP itself (`receipts.twilio`); only a text that is none of them is offered to
the handlers registered here, in the order they registered, until one takes it. So a STOP is
always a STOP, whatever else is waiting for an answer.

An app registers from its `AppConfig.ready()`, as it registers its message kinds, so the engine
never imports it:

    inbound_text_handler_register("feedback.survey", survey_text_reply_handle)

A handler receives plain values (`InboundText`) and returns True when the text was its to
handle (it then sends any answer itself, as a message through the engine); False passes it on.
It runs in its own savepoint: a handler that fails is logged and skipped, and the text stays
stored.

Apps that only listen (the text analysis reads what customers write) subscribe instead: every
listener hears of every stored text, keywords included, after the handlers, each in its own
savepoint, and cannot change what we answer the sender:

    inbound_subscribe("feedback.inbound_text_analyse", inbound_text_analyse)"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from postpurchase.redact import redacted_traceback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundText:
    """A customer's text, as stored (`notifications.InboundMessage`)."""

    inbound_id: int
    # The shop the text is addressed to (the owner of the number written to, else the shop
    # that last texted the sender); None when no shop knows the sender.
    shop_id: int | None
    customer_id: int | None
    channel: str
    # E.164, without the "whatsapp:" prefix.
    sender: str
    body: str
    received_at: datetime
    # The provider's id of the text (Twilio's MessageSid), "" where it gave none.
    provider_message_id: str = ""
    # The compliance keyword the text amounts to: "stop", "start", "help" or "".
    keyword: str = ""
    # What listeners hear: the key of the handler that took the text ("feedback.survey"), or
    # "" when none did (or it was a keyword).
    handled_by: str = ""


InboundTextHandler = Callable[[InboundText], bool]

# Key → handler, in the order of registration.
_handlers: dict[str, InboundTextHandler] = {}


def inbound_text_handler_register(key: str, handler: InboundTextHandler) -> None:
    """Offer non-keyword texts to `handler` (registering a key again replaces its handler)."""
    _handlers[key] = handler


def inbound_text_handler_unregister(key: str) -> None:
    _handlers.pop(key, None)


def inbound_text_handlers() -> dict[str, InboundTextHandler]:
    return dict(_handlers)


def inbound_text_dispatch(text: InboundText) -> str:
    """Offer the text to each handler until one takes it; returns that handler's key, or ""."""
    for key, handler in list(_handlers.items()):
        try:
            with transaction.atomic():
                taken = handler(text)
        except Exception as exc:
            logger.error("inbound text handler %s failed\n%s", key, redacted_traceback(exc))
            continue
        if taken:
            return key
    return ""


InboundListener = Callable[[InboundText], object]
# Listener key → listener; the key names it in the log.
subscribers: dict[str, InboundListener] = {}


def inbound_subscribe(key: str, listener: InboundListener) -> None:
    subscribers[key] = listener


def inbound_unsubscribe(key: str) -> None:
    subscribers.pop(key, None)


def inbound_text_announce(text: InboundText) -> list[str]:
    """Hand the text to every listener; returns the keys of those that took it without error."""
    heard = []
    for key, listener in list(subscribers.items()):
        try:
            with transaction.atomic():
                listener(text)
        except Exception as exc:
            # The error may quote the text: the log gets it masked.
            logger.error(
                "inbound listener %s failed on text %s\n%s",
                key,
                text.inbound_id,
                redacted_traceback(exc),
            )
            continue
        heard.append(key)
    return heard
