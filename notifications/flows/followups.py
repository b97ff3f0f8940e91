"""Follow-ups about the product in the customer's hands, timed from delivery: the care and
usage guide. (The review request is `feedback`'s: `feedback.messages`.)"""

from orders.messages import event_shipment, order_context
from orders.selectors import shipment_line_items
from postpurchase.message_kinds import MessagePlan, PlanRequest


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
