"""Follow-ups about the product in the customer's hands, timed from delivery: the care and
usage guide and the review request."""

from django.conf import settings
from django.core import signing

from notifications.engine.planning import Plan, order_context, shipment_line_items
from notifications.models import Flow
from orders.models import Order, Shipment

_FEEDBACK_SALT = "feedback.order"


def feedback_url(order: Order) -> str:
    """Where the customer reviews their order. The feedback pages do not exist yet: this is
    the one place that builds the link, so they change only this. The token names the order,
    is signed with SECRET_KEY and cannot be guessed or enumerated."""
    token = signing.dumps(order.pk, salt=_FEEDBACK_SALT, compress=False)
    return f"{settings.PUBLIC_BASE_URL}/feedback/{token}/"


def care_guide_plans(*, flow: Flow, order: Order, shipment: Shipment) -> list[Plan]:
    """One message with the guides of the parcel's products that have one; none otherwise."""
    if shipment.delivered_at is None:
        return []
    guides = []
    seen: set[int] = set()
    for line in shipment_line_items(shipment):
        product = line.product
        if product is None or not product.care_guide.strip() or product.pk in seen:
            continue
        seen.add(product.pk)
        guides.append({"title": product.title, "care_guide": product.care_guide.strip()})
    if not guides:
        return []
    context = order_context(order) | {"guides": guides}
    due = shipment.delivered_at + flow.delay
    return [Plan(about=("shipment", shipment.pk), due=due, context=context)]


def review_request_plans(*, flow: Flow, order: Order) -> list[Plan]:
    """One request per order, `flow.delay` after its last parcel arrived."""
    if order.delivered_at is None:
        return []
    context = order_context(order) | {"review_url": feedback_url(order)}
    due = order.delivered_at + flow.delay
    return [Plan(about=("order", order.pk), due=due, context=context)]
