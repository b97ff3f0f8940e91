"""A channel that only logs and remembers: the demo runs without any provider account."""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from notifications.engine.channels.base import RenderedMessage, SendResult
from postpurchase.redact import mask_recipient

logger = logging.getLogger(__name__)

SENT_LIMIT = 200


@dataclass(frozen=True)
class ConsoleRecord:
    provider_message_id: str
    sent_at: datetime
    message: RenderedMessage


# The demo's "outbox": the last SENT_LIMIT messages, newest last. A bounded deque keeps a
# long-running demo process from growing without end.
sent: deque[ConsoleRecord] = deque(maxlen=SENT_LIMIT)


class ConsoleChannel:
    name = "console"

    def send(self, msg: RenderedMessage) -> SendResult:
        provider_message_id = f"console-{uuid.uuid4().hex}"
        # The recipient masked, and the text (which may name the customer or their address)
        # only at DEBUG: the message log in the dashboard shows it all.
        logger.info(
            "console %s message %s to %s (%d characters)",
            msg.channel,
            msg.message_id,
            mask_recipient(msg.recipient),
            len(msg.body_text),
        )
        logger.debug(
            "console message %s\nsubject: %s\n%s", msg.message_id, msg.subject, msg.body_text
        )
        sent.append(ConsoleRecord(provider_message_id, timezone.now(), msg))
        return SendResult(
            provider_message_id=provider_message_id, provider="console", status="sent"
        )
