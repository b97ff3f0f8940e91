"""The customer's replies reaching their case: texts offered by the messaging engine's inbound
webhook (`notifications.engine.inbound_texts`), and emails handed over by anymail's inbound signal.

A text joins the latest open case of the customer with that phone in the shop it was sent to.
An email joins the case its reply address names (`case+<signed id>@…`), else the case of the
reply we sent that its In-Reply-To or References header names."""

import logging
import re
from email.utils import getaddresses
from typing import Any

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent
from django.db.models import Q
from django.utils.html import strip_tags

from feedback.cases.email_replies import reply_text_strip
from feedback.cases.services import case_customer_reply_record
from feedback.cases.tokens import case_id_from_address
from feedback.models import OPEN_CASE_STATES, Case, CaseMessage, ThreadChannel
from notifications.services import InboundText

logger = logging.getLogger(__name__)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def case_for_text(*, shop_id: int, phone: str) -> Case | None:
    """The customer's latest open case in the shop, by the phone they texted from."""
    return (
        Case.objects.filter(shop_id=shop_id, status__in=OPEN_CASE_STATES)
        .filter(Q(customer__phone=phone) | Q(order__phone=phone))
        .order_by("-created_at", "-pk")
        .first()
    )


def case_text_reply_take(text: InboundText) -> bool:
    """Inbound text handler (registered after surveys' own): True when the text joined a case."""
    if text.shop_id is None:
        return False
    case = case_for_text(shop_id=text.shop_id, phone=text.sender)
    if case is None:
        return False
    case_customer_reply_record(
        case=case,
        channel=text.channel,
        body=text.body,
        inbound_key=f"twilio:{text.provider_message_id}",
    )
    return True


def _addresses(message: AnymailInboundMessage) -> list[str]:
    values = [message.get_all(name) or [] for name in ("To", "Cc", "Delivered-To")]
    found = [address for _, address in getaddresses([v for vs in values for v in vs])]
    if message.envelope_recipient:
        found.append(message.envelope_recipient)
    return found


def _referenced_ids(message: AnymailInboundMessage) -> list[str]:
    headers = " ".join(
        str(value)
        for name in ("In-Reply-To", "References")
        for value in (message.get_all(name) or [])
    )
    return _MESSAGE_ID.findall(headers)


def case_for_email(message: AnymailInboundMessage) -> Case | None:
    for address in _addresses(message):
        case_id = case_id_from_address(address)
        if case_id is not None:
            return Case.objects.filter(pk=case_id).first()
    ids = _referenced_ids(message)
    if ids:
        entry = (
            CaseMessage.objects.filter(message__email_message_id__in=ids)
            .select_related("case")
            .order_by("-created_at")
            .first()
        )
        if entry is not None:
            return entry.case
    return None


def _reply_text(message: AnymailInboundMessage) -> str:
    text = message.text or ""
    if not text.strip() and message.html:
        text = strip_tags(message.html)
    return reply_text_strip(text)


def case_email_reply_record(*, message: AnymailInboundMessage, event_id: str | None) -> bool:
    """Attach an inbound email to its case; False when it names none (or a closed one)."""
    case = case_for_email(message)
    if case is None or case.is_closed:
        return False
    key = str(message.get("Message-ID") or event_id or "")
    case_customer_reply_record(
        case=case,
        channel=ThreadChannel.EMAIL,
        body=_reply_text(message),
        inbound_key=f"email:{key}" if key else "",
    )
    return True


def case_email_received(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """anymail's `inbound` signal: only hands the message to its service."""
    if event.message is None:
        return
    if not case_email_reply_record(message=event.message, event_id=event.event_id):
        logger.info("inbound email from %s matched no case", esp_name)
