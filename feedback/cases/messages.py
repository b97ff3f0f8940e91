"""What a case says to the customer: staff's replies (`case_reply`, the body written by staff)
and the "did we make it right?" follow-up after a resolution (`case_followup`, two days later
by default, one-tap yes/no links). Neither starts on an event: the case's services schedule
them (`feedback.cases.services`), so each kind's trigger names that action, not an event."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from orders.models import Channel, Purpose
from postpurchase.message_kinds import MessageKind, TemplateVariable

_CASE_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
    TemplateVariable("case_number", "The case's number", "C1042"),
    TemplateVariable("order_number", "The order the case is about (may be blank)", "#1001"),
)

KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name="case_reply",
        label=_("Case reply"),
        trigger="case_reply_written",
        channels=(Channel.EMAIL.value, Channel.SMS.value, Channel.WHATSAPP.value),
        purpose=Purpose.TRANSACTIONAL,
        variables=(
            *_CASE_VARIABLES,
            TemplateVariable(
                "body", "What staff wrote", "We are sorry: a new mug is on its way today."
            ),
            TemplateVariable("case_summary", "What the case is about", "2★ review: lid leaks"),
        ),
        delay_meaning="Sent as soon as staff reply from the case page; the delay is not used.",
        templates="notifications/case_reply",
    ),
    MessageKind(
        name="case_followup",
        label=_("Case follow-up: did we make it right?"),
        trigger="case_resolved",
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        purpose=Purpose.TRANSACTIONAL,
        delay=timedelta(days=2),
        useful_for=timedelta(days=14),
        variables=(
            *_CASE_VARIABLES,
            TemplateVariable(
                "yes_url", "One-tap link: yes, it was made right", "https://example.com/yes/"
            ),
            TemplateVariable("no_url", "One-tap link: no, not yet", "https://example.com/no/"),
        ),
        delay_meaning="Time after staff resolve the case; sent on the first channel that works.",
        templates="notifications/case_followup",
    ),
)
