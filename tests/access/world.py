"""A shop with one of everything the dashboard can name, and its staff in every role; a
message held for review."""

from types import SimpleNamespace

from django.utils import timezone

from feedback.cases.services import open_case_for_signal
from feedback.models import ReviewPhoto
from feedback.numbers.rollups import shop_rollups_rebuild
from feedback.reviews.services import ReviewDraft, review_submit
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.templating import message_template_save
from notifications.models import (
    Flow,
    Message,
    MessageStatus,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from orders.models import Purpose, StaffRole
from orders.photos import photo_clean
from tests.factories import (
    OrderFactory,
    ProblemReportFactory,
    ShopFactory,
    StaffMembershipFactory,
)
from tests.loyalty.dashboard_helpers import programme_with_member
from tests.returns.test_dashboard import delivered_line, file_return, manual_policy

JPEG = b"\xff\xd8\xff\xe0 fake jpeg"


def held_review(shop):
    """A review with a photo, held for the personal data it carries."""
    from tests.feedback.helpers import delivered_order, jpeg_upload

    order = delivered_order(shop)
    draft = ReviewDraft(
        line_item_id=order.line_items.get().pk,
        rating=2,
        title="Strap broke",
        body="The strap broke on day two. Call me on +1 (555) 010-2000 about it.",
        photos=[photo_clean(jpeg_upload())],
    )
    return review_submit(order=order, draft=draft)


def held_message(shop, order, **fields) -> Message:
    """A message whose send was interrupted after the provider may have taken it."""
    values = {
        "kind": "order_confirmation",
        "channel": "email",
        "purpose": Purpose.TRANSACTIONAL,
        "recipient": order.email,
        "about_type": "order",
        "about_id": order.pk,
        "send_at": timezone.now(),
        "status": MessageStatus.HELD,
        "status_reason": "outcome unknown: the send was interrupted",
        "provider": "postmark",
        "provider_message_id": "0a1b2c3d-held",
        "email_message_id": f"<held-{order.pk}@shop.test>",
        "attempt_count": 1,
        "sending_at": timezone.now(),
        "subject": "Your order",
        "body_text": "Thanks for your order.",
        "body_html": "<p>Thanks for your order.</p>",
    }
    values.update(fields)
    return Message.objects.create(
        shop=shop,
        customer=order.customer,
        order=order,
        dedupe_key=f"access:{order.pk}:{values['channel']}",
        **values,
    )


def make_world() -> SimpleNamespace:
    shop = ShopFactory()
    other_shop = ShopFactory()
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user
    other_owner = StaffMembershipFactory(shop=other_shop, role=StaffRole.OWNER).user

    manual_policy(shop)
    manual_policy(other_shop)
    flows_ensure_defaults(shop_id=shop.pk)
    flows_ensure_defaults(shop_id=other_shop.pk)
    line = delivered_line(shop)
    order = line.order
    return_request = file_return(line, photo=JPEG, photo_content_type="image/jpeg")
    report = ProblemReportFactory(order=order, photo=JPEG, photo_content_type="image/jpeg")
    message = held_message(shop, order)
    case = open_case_for_signal(
        shop=shop,
        customer=order.customer,
        order=order,
        source="survey",
        source_id=1,
        score=2,
        scale="nps",
        text="Late and broken.",
    )
    ProviderEvent.objects.create(
        provider="postmark",
        event_key="pm-delivery-1",
        message=message,
        kind="delivered",
        payload={"RecordType": "Delivery", "Recipient": order.email, "Details": "Accepted"},
    )
    template = message_template_save(
        shop=shop,
        kind="order_confirmation",
        channel="email",
        locale="",
        subject="Order {{ order_number }}",
        body_text="Hello {{ customer_first_name }}",
        body_html="",
        whatsapp_content_sid="",
        actor=None,
    )
    suppression = Suppression.objects.create(
        shop=shop,
        channel="email",
        address="gone@example.org",
        reason=SuppressionReason.HARD_BOUNCE,
        source="postmark",
    )
    review = held_review(shop)
    # The feedback numbers read daily rollups: counted as the beat task would.
    shop_rollups_rebuild(shop)
    # A loyalty programme, and the order's customer a member with a history.
    member = programme_with_member(shop, order.customer, order)
    return SimpleNamespace(
        review=review,
        review_photo=ReviewPhoto.objects.get(review=review),
        shop=shop,
        other_shop=other_shop,
        owner=owner,
        manager=manager,
        agent=agent,
        other_owner=other_owner,
        order=order,
        customer=order.customer,
        return_request=return_request,
        item=return_request.items.get(),
        report=report,
        message=message,
        case=case,
        flow=Flow.objects.get(shop=shop, kind="order_confirmation"),
        template=template,
        template_id=template.pk,
        suppression=suppression,
        other_order=OrderFactory(shop=other_shop),
        member=member,
    )
