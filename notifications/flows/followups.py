"""Follow-ups about the product in the customer's hands, timed from delivery: the care and
usage guide and the review request."""

from django.conf import settings
from django.core import signing

from orders.messages import event_shipment, order_context
from orders.models import Order
from orders.selectors import shipment_line_items
from postpurchase.message_kinds import MessagePlan, PlanRequest

_FEEDBACK_SALT = "feedback.order"


def feedback_url(order: Order) -> str:
    """Where the customer reviews their order. The feedback pages do not exist yet: this is
    the one place that builds the link, so they change only this. The token names the order,
    is signed with SECRET_KEY and cannot be guessed or enumerated."""
    token = signing.dumps(order.pk, salt=_FEEDBACK_SALT, compress=False)
    return f"{settings.PUBLIC_BASE_URL}/feedback/{token}/"


def care_guide_plan(request: PlanRequest) -> list[MessagePlan]:
    """One message with the guides of the delivered parcel's products that have one, `delay`
    after delivery; none otherwise."""
    shipment = event_shipment(request)
    if shipment is None or shipment.delivered_at is None:
        return []
    guides = []
    seen: set[int] = set()
    for line in shipment_line_items(shipment=shipment):
        product = line.product
        if product is None or not product.care_guide.strip() or product.pk in seen:
            continue
        seen.add(product.pk)
        guides.append({"title": product.title, "care_guide": product.care_guide.strip()})
    if not guides:
        return []
    context = order_context(request.order) | {"guides": guides}
    due = shipment.delivered_at + request.delay
    return [MessagePlan(about=("shipment", shipment.pk), due=due, context=context)]


def review_request_plan(request: PlanRequest) -> list[MessagePlan]:
    """One request per order, `delay` after its last parcel arrived."""
    order: Order = request.order
    if order.delivered_at is None:
        return []
    context = order_context(order) | {"review_url": feedback_url(order)}
    due = order.delivered_at + request.delay
    return [MessagePlan(about=("order", order.pk), due=due, context=context)]
