"""The messages about an order and its parcels: the confirmation, and each step of a parcel's
journey the customer waits on (shipped, out for delivery, delivered, a problem).

`orders` publishes the events that start them (`orders.events`), so it declares them, once, in
the kernel's terms (`postpurchase.message_kinds`), and registers them from `OrdersConfig.ready()`;
it never imports the messaging engine that schedules, renders and sends them. Their default
templates are this app's (`orders/templates/notifications/<kind>/`), with the parcel and
"often bought together" blocks they share with other apps' kinds.

The plain values of an order and of a parcel (`order_context`, `shipment_context`) are the base
of every app's messages about an order, so they live here too.
"""

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from orders.events import OrderEventName
from orders.links import tracking_page_url
from orders.models import Channel, Order, Purpose, Shipment
from orders.recommendations import products_bought_with
from postpurchase.message_kinds import MessageKind, MessagePlan, PlanRequest, TemplateVariable
from postpurchase.shell.customer import customer_locale

# --- What templates about an order may use ---------------------------------------------------

ORDER_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
    TemplateVariable("order_number", "The order number the customer sees", "#1001"),
    TemplateVariable(
        "items",
        "The order's lines: each has quantity, title, variant_title and total",
        [{"quantity": 2, "title": "Green tea", "variant_title": "250 g", "total": "18.00"}],
    ),
    TemplateVariable("total", "The order's total, e.g. 42.50", "18.00"),
    TemplateVariable("currency", "The order's currency code, e.g. EUR", "USD"),
    TemplateVariable(
        "tracking_url", "Link to the order's tracking page", "https://example.com/track/4mKx…/"
    ),
    TemplateVariable(
        "preferences_url",
        "Link to the customer's message preferences (unsubscribe)",
        "https://example.com/preferences/sample/",
    ),
)
# The editor's sample parcel is expected this long after today.
SAMPLE_DELIVERY_IN = timedelta(days=3)


def delivery_date_text(day: date, *, customer: Any = None, shop: Any = None) -> str:
    """A date as a message shows it: in the customer's language (`customer_locale`), or the
    active one when no shop is given (the editor's sample)."""
    if shop is None:
        return formats.date_format(day, "DATE_FORMAT")
    with customer_locale(customer=customer, shop=shop).active():
        return formats.date_format(day, "DATE_FORMAT")


SHIPMENT_VARIABLES = (
    TemplateVariable("carrier", "The carrier's name, e.g. UPS (may be blank)", "UPS"),
    TemplateVariable("tracking_number", "The parcel's tracking number", "1Z999AA10123456784"),
    TemplateVariable(
        "carrier_tracking_url",
        "The carrier's own tracking page (may be blank)",
        "https://carrier.example/track/1Z999AA10123456784",
    ),
    TemplateVariable(
        "estimated_delivery_date",
        "Expected delivery date, as the customer reads it, e.g. Dec. 9, 2026 (may be blank)",
        lambda: delivery_date_text(timezone.localdate() + SAMPLE_DELIVERY_IN),
    ),
    TemplateVariable("shipment_status", "The parcel's status, e.g. In transit", "In transit"),
)
RECOMMENDATIONS = TemplateVariable(
    "recommendations",
    "Up to three products often bought with these: each has title, url and image_url",
    [{"title": "Tea infuser", "url": "https://example.com/infuser", "image_url": ""}],
)
# What each number of an order update's approved WhatsApp content template carries.
ORDER_UPDATE_WHATSAPP = ("customer_first_name", "order_number", "tracking_url")


def order_context(order: Order) -> dict[str, Any]:
    """The plain values order templates may use, and nothing else."""
    customer = order.customer
    return {
        "shop_name": order.shop.name,
        "order_number": order.number,
        "customer_first_name": customer.first_name if customer else "",
        "items": [
            {
                "quantity": line.quantity,
                "title": line.title,
                "variant_title": line.variant_title,
                "total": str(line.line_total),
            }
            for line in order.line_items.all()
        ],
        "total": str(order.total),
        "currency": order.currency,
        "tracking_url": tracking_page_url(order),
    }


def shipment_context(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "carrier_tracking_url": shipment.tracking_url,
        "estimated_delivery_date": (
            delivery_date_text(
                shipment.estimated_delivery_date,
                customer=shipment.order.customer,
                shop=shipment.order.shop,
            )
            if shipment.estimated_delivery_date
            else ""
        ),
        "shipment_status": shipment.get_status_display(),
    }


def recommendations_context(order: Order) -> list[dict[str, Any]]:
    """The "Often bought together" block of an order's messages, as plain values."""
    product_ids = [line.product_id for line in order.line_items.all() if line.product_id]
    found = products_bought_with(
        shop_id=order.shop_id, product_ids=product_ids, customer_id=order.customer_id
    )
    return [asdict(product) for product in found]


def event_shipment(request: PlanRequest) -> Shipment | None:
    """The parcel a shipment event is about (None for an order's own events), among the order's
    (loaded once when the caller prefetched them). Shipment.DoesNotExist when it is not the
    order's."""
    shipment_id = request.event.payload.get("shipment_id")
    if not shipment_id:
        return None
    order: Order = request.order
    found = next((s for s in order.shipments.all() if s.pk == shipment_id), None)
    if found is None:
        raise Shipment.DoesNotExist(f"shipment {shipment_id} is not order {order.pk}'s")
    return found


def order_preview_context(order: Order) -> dict[str, Any]:
    """What the template editor previews an order's message with: the order's own values and
    its latest parcel's."""
    context = order_context(order)
    shipment = order.shipments.order_by("-created_at").first()
    if shipment is not None:
        context |= shipment_context(shipment)
    return context


def _recommending_preview_context(order: Order) -> dict[str, Any]:
    return order_preview_context(order) | {"recommendations": recommendations_context(order)}


# --- Planning --------------------------------------------------------------------------------


def order_update_plans(request: PlanRequest) -> list[MessagePlan]:
    """One message about the order, or about the parcel a shipment event names, `delay` after
    the event."""
    order: Order = request.order
    context = order_context(order)
    about: tuple[str, int] = ("order", order.pk)
    shipment = event_shipment(request)
    if shipment is not None:
        context |= shipment_context(shipment)
        about = ("shipment", shipment.pk)
    return [MessagePlan(about=about, due=request.now + request.delay, context=context)]


def _recommending_plans(request: PlanRequest) -> list[MessagePlan]:
    """As `order_update_plans`, with what is often bought with the order's products (pairs
    computed nightly: a backfilled message, never sent, goes without)."""
    if request.is_backfill:
        return order_update_plans(request)
    return [
        MessagePlan(
            about=plan.about,
            due=plan.due,
            context=plan.context | {"recommendations": recommendations_context(request.order)},
        )
        for plan in order_update_plans(request)
    ]


# --- The kinds -------------------------------------------------------------------------------

_TEXTS = (Channel.EMAIL.value, Channel.SMS.value)


def _on_shipment_status(
    status: str, label: str | Promise, useful_for: timedelta, *, recommending: bool = False
) -> MessageKind:
    """A transactional message when a parcel reaches `status`, e.g. `shipment_delivered`."""
    return MessageKind(
        name=f"shipment_{status}",
        label=label,
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=useful_for,
        conditions=(("to_status", status),),
        variables=(
            *ORDER_VARIABLES,
            *SHIPMENT_VARIABLES,
            *((RECOMMENDATIONS,) if recommending else ()),
        ),
        planner=_recommending_plans if recommending else order_update_plans,
        preview_context=_recommending_preview_context if recommending else order_preview_context,
        whatsapp_variables=ORDER_UPDATE_WHATSAPP,
    )


KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name="order_confirmation",
        label=_("Order confirmation"),
        trigger=OrderEventName.ORDER_PLACED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=1),
        variables=(*ORDER_VARIABLES, RECOMMENDATIONS),
        planner=_recommending_plans,
        preview_context=_recommending_preview_context,
        whatsapp_variables=ORDER_UPDATE_WHATSAPP,
    ),
    MessageKind(
        name="shipment_shipped",
        label=_("Shipment shipped"),
        trigger=OrderEventName.SHIPMENT_CREATED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=2),
        variables=(*ORDER_VARIABLES, *SHIPMENT_VARIABLES),
        planner=order_update_plans,
        preview_context=order_preview_context,
        whatsapp_variables=ORDER_UPDATE_WHATSAPP,
    ),
    # Stale once the day is over.
    _on_shipment_status("out_for_delivery", _("Shipment out for delivery"), timedelta(hours=8)),
    _on_shipment_status("delivered", _("Shipment delivered"), timedelta(days=2), recommending=True),
    _on_shipment_status("exception", _("Shipment exception"), timedelta(days=3)),
)
