"""The texts customers already write elsewhere, fed to `record_text` as they arrive: the
problem reports of the tracking page (through `orders`' `problem_reported` event) and the
texts customers send us (through the messaging engine's inbound subscribers). Survey
answers and reviews call `record_text` from their own services. And an erased customer's
texts are erased (through `customer_redacted`)."""

import re

from feedback.analysis.services import record_text, texts_erase_for_customer
from feedback.models import TextSource
from notifications.engine.inbound_texts import InboundText
from orders.models import Customer, ProblemReport, Shop
from postpurchase.events import Event

# A text worth reading has at least one word: not "9", not "👍".
_A_WORD = re.compile(r"[^\W\d_]{2,}")


def problem_reported_analyse(event: Event) -> None:
    """Subscribed to `problem_reported`: the customer's description of the problem."""
    report = (
        ProblemReport.objects.select_related("shop", "order__customer")
        .filter(pk=event.payload["problem_report_id"])
        .first()
    )
    if report is None:  # deleted with its shop or order since
        return
    record_text(
        shop=report.shop,
        source=TextSource.PROBLEM_REPORT,
        source_id=report.pk,
        text=report.description,
        customer=report.order.customer,
        written_at=report.created_at,
    )


def inbound_text_analyse(text: InboundText) -> None:
    """Registered with the engine's inbound subscribers: a customer's own words by text.
    STOP, START and HELP are commands, and a bare number or emoji says nothing to read."""
    if text.shop_id is None or text.keyword or not _A_WORD.search(text.body):
        return
    shop = Shop.objects.get(pk=text.shop_id)
    customer = (
        Customer.objects.filter(pk=text.customer_id, shop=shop).first()
        if text.customer_id
        else None
    )
    record_text(
        shop=shop,
        source=TextSource.INBOUND_REPLY,
        source_id=text.inbound_id,
        text=text.body,
        customer=customer,
        written_at=text.received_at,
    )


def customer_redacted_erase(event: Event) -> None:
    """Subscribed to `customer_redacted`: the customer's texts are personal data too."""
    texts_erase_for_customer(shop_id=event.shop_id, customer_id=event.payload["customer_id"])
