"""Returns in messaging: each step of a return tells the customer once (the request, the approval
with its slip, a rejection with its reason, the arrival, and what they got back), and marketing
waits while a return is open."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from notifications.engine.planning import event_schedule_messages
from notifications.engine.rendering import message_render_outbound
from notifications.engine.templating import (
    TemplateInvalid,
    message_template_save,
    template_preview_context,
)
from notifications.models import Message, MessageStatus, Purpose
from notifications.services import MessageRequest, message_schedule, message_send
from orders.models import Channel, Order, OrderStatus
from postpurchase.events import Event, domain_event_deliver
from postpurchase.models import DomainEvent
from returns.events import ReturnEventName
from returns.models import ReturnPolicy, ReturnRequest, ReturnStatus
from returns.selectors import customers_with_open_return
from returns.services import (
    Inspection,
    ItemChoice,
    return_policy_for,
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_inspect,
    return_request_mark_in_transit,
    return_request_receive,
    return_request_reject,
    return_request_resolve,
)
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

# --- Given ---------------------------------------------------------------------------------------


def delivered_order(*, phone: str = "", **customer) -> Order:
    buyer = CustomerFactory(phone=phone, **customer)
    return OrderFactory(
        shop=buyer.shop,
        customer=buyer,
        status=OrderStatus.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=3),
    )


def line(order: Order, *, price: str = "40.00", title: str = "Linen shirt"):
    product = ProductFactory(shop=order.shop, title=title)
    variant = VariantFactory(product=product, title="M", price=price)
    return LineItemFactory(
        order=order,
        product=product,
        variant=variant,
        title=title,
        variant_title="M",
        unit_price=Decimal(price),
    )


def policy(order: Order, **values) -> ReturnPolicy:
    found = return_policy_for(order.shop)
    for name, value in values.items():
        setattr(found, name, value)
    found.save()
    return found


def choice(line_item, *, resolution: str = "refund", reason: str = "too_small", **extra):
    return ItemChoice(
        line_item_id=line_item.pk,
        quantity=1,
        reason_code=reason,
        resolution=resolution,
        **extra,
    )


def file(order: Order, *items: ItemChoice, method: str = "drop_off") -> ReturnRequest:
    return return_request_create(
        order=order, items=list(items), method=method, submission_key=f"key-{order.pk}-{method}"
    )[0]


def deliver_events() -> list[int]:
    """Hand every pending domain event to its subscribers, as the worker would after commit."""
    pending = list(
        DomainEvent.objects.filter(is_fully_delivered=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for event_id in pending:
        domain_event_deliver(event_id=event_id)
    return pending


def about_the_return(request: ReturnRequest, kind: str):
    return Message.objects.filter(kind=kind, about_type="return", about_id=request.pk)


def rendered(request: ReturnRequest, kind: str):
    message = about_the_return(request, kind).get(channel=Channel.EMAIL)
    return message_render_outbound(message=message)


def awaiting_approval(order: Order, *items: ItemChoice, **policy_values) -> ReturnRequest:
    policy(order, auto_approve=False, **policy_values)
    return file(order, *items)


# --- Each step, once -----------------------------------------------------------------------------


def test_a_filed_return_tells_the_customer_once_by_email_and_by_text_where_they_accept_texts():
    order = delivered_order(phone="+14155550123")
    ConsentFactory(customer=order.customer, shop=order.shop, channel=Channel.SMS)
    request = awaiting_approval(order, choice(line(order)))

    deliver_events()
    event = DomainEvent.objects.get(name=ReturnEventName.REQUESTED)
    domain_event_deliver(event_id=event.pk)  # the same event again
    replay = Event(id=event.pk, name=event.name, shop_id=event.shop_id, payload=event.payload)
    event_schedule_messages(replay)  # and its handler run again

    messages = about_the_return(request, "return_requested")
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    assert Message.objects.count() == 2
    email = messages.get(channel=Channel.EMAIL)
    assert email.purpose == Purpose.TRANSACTIONAL
    assert email.customer_id == order.customer_id
    assert email.order_id == order.pk
    assert email.context["rma"] == request.rma
    text = rendered(request, "return_requested")
    assert request.rma in text.subject
    assert "Linen shirt (M)" in text.body_text
    page = f"https://shop.test/returns/{order.tracking_token}/r/{request.rma}/"
    assert page in text.body_text
    assert page in text.body_html


def test_a_customer_who_takes_no_texts_hears_by_email_only():
    order = delivered_order(phone="+14155550124")
    request = awaiting_approval(order, choice(line(order)))

    deliver_events()

    assert list(Message.objects.values_list("kind", "channel")) == [("return_requested", "email")]
    assert about_the_return(request, "return_requested").count() == 1


def test_the_approval_carries_the_rma_the_slip_link_and_every_instruction():
    order = delivered_order()
    request = awaiting_approval(
        order,
        choice(line(order)),
        instructions="Wrap glass items in paper.",
        return_address="Returns dept\n1 Tea Lane",
    )
    deliver_events()

    return_request_approve(return_request=request, actor=None)
    deliver_events()
    deliver_events()

    assert about_the_return(request, "return_approved").count() == 1
    text = rendered(request, "return_approved")
    slip = f"https://shop.test/returns/{order.tracking_token}/r/{request.rma}/slip/"
    assert request.rma in text.subject
    for body in (text.body_text, text.body_html):
        assert slip in body
        assert "drop it off at a carrier point" in body
        assert "Wrap glass items in paper." in body
        assert "1 Tea Lane" in body
    assert about_the_return(request, "return_requested").count() == 1  # sent before


def test_an_auto_approved_return_gets_the_approval_alone():
    order = delivered_order()
    request = file(order, choice(line(order)))
    assert request.status == ReturnStatus.APPROVED

    deliver_events()

    kinds = list(Message.objects.values_list("kind", flat=True))
    assert kinds == ["return_approved"]
    assert request.rma in rendered(request, "return_approved").body_text


def test_a_kept_item_is_approved_without_a_slip():
    order = delivered_order()
    policy(order, methods=["drop_off", "keep_item"], keep_item_max_value=Decimal("50.00"))
    request = file(order, choice(line(order, price="8.00")), method="keep_item")

    deliver_events()

    text = rendered(request, "return_approved")
    assert "/slip/" not in text.body_text
    assert "please keep the item" in text.body_text


def test_a_rejection_gives_the_reason_once():
    order = delivered_order()
    request = awaiting_approval(order, choice(line(order)))

    return_request_reject(return_request=request, actor=None, reason="Worn and washed items.")
    deliver_events()
    deliver_events()

    assert about_the_return(request, "return_rejected").count() == 1
    # Rejected before the request's own message went out: that one is moot.
    assert not about_the_return(request, "return_requested").exists()
    text = rendered(request, "return_rejected")
    assert request.rma in text.subject + text.body_text
    assert "Worn and washed items." in text.body_text
    assert "Worn and washed items." in text.body_html


def test_the_arrival_is_told_once_and_the_trip_back_is_not():
    order = delivered_order()
    request = file(order, choice(line(order)))
    return_request_mark_in_transit(return_request=request)
    return_request_receive(return_request=request, actor=None)

    deliver_events()

    kinds = sorted(Message.objects.values_list("kind", flat=True))
    assert kinds == ["return_approved", "return_received"]
    assert request.rma in rendered(request, "return_received").body_text


def resolved(order: Order, *items: ItemChoice) -> ReturnRequest:
    request = file(order, *items)
    return_request_receive(return_request=request, actor=None)
    inspections = {item.pk: Inspection(condition="resellable") for item in request.items.all()}
    return_request_inspect(return_request=request, actor=None, inspections=inspections)
    return return_request_resolve(return_request=request)


def test_the_resolution_says_the_refund_the_credit_and_the_exchange_order():
    order = delivered_order()
    refunded = line(order, price="40.00", title="Linen shirt")
    credited = line(order, price="20.00", title="Scarf")
    swapped = line(order, price="30.00", title="Trousers")
    larger = VariantFactory(product=swapped.product, title="L", inventory_quantity=5)
    request = resolved(
        order,
        choice(refunded),
        choice(credited, resolution="store_credit"),
        choice(swapped, resolution="exchange", exchange_variant_id=larger.pk),
    )
    exchange = request.exchange_order
    assert exchange is not None

    deliver_events()
    deliver_events()

    assert about_the_return(request, "return_resolved").count() == 1
    text = rendered(request, "return_resolved")
    assert request.rma in text.subject
    for body in (text.body_text, text.body_html):
        assert f"refund of {request.refund_total} USD" in body.replace("<strong>", "").replace(
            "</strong>", ""
        )
        assert f"{request.credit_total} USD" in body
        assert "of store credit" in body
        assert exchange.number in body
        assert f"https://shop.test/track/{exchange.tracking_token}/" in body
    assert request.refund_total == Decimal("40.00")
    assert request.credit_total == Decimal("22.00")  # 20.00 and the 10% bonus
    # The replacement is an order of its own, confirmed like any other.
    assert Message.objects.filter(kind="order_confirmation", order=exchange).count() == 1


def test_a_refund_only_resolution_says_nothing_of_credit_or_exchange():
    order = delivered_order()
    request = resolved(order, choice(line(order)))

    deliver_events()

    text = rendered(request, "return_resolved").body_text
    assert "refund of 40.00 USD" in text
    assert "store credit" not in text
    assert "exchange" not in text.lower()


def test_two_returns_of_one_order_each_get_their_own_messages():
    order = delivered_order()
    first = file(order, choice(line(order)))
    second = return_request_create(
        order=order, items=[choice(line(order))], method="drop_off", submission_key="second"
    )[0]

    deliver_events()

    assert about_the_return(first, "return_approved").count() == 1
    assert about_the_return(second, "return_approved").count() == 1


def test_a_cancelled_return_cancels_what_is_still_pending_about_it():
    order = delivered_order()
    request = awaiting_approval(order, choice(line(order)))
    deliver_events()
    pending = about_the_return(request, "return_requested").get()
    assert pending.status == MessageStatus.SCHEDULED

    return_request_cancel(return_request=request)
    deliver_events()

    pending.refresh_from_db()
    assert pending.status == MessageStatus.CANCELLED
    assert pending.status_reason == "the return was cancelled"


def test_a_disabled_return_flow_sends_nothing():
    order = delivered_order()
    request = awaiting_approval(order, choice(line(order)))
    deliver_events()
    order.shop.flows.filter(kind="return_rejected").update(is_enabled=False)

    return_request_reject(return_request=request, actor=None, reason="Too late.")
    deliver_events()

    assert not about_the_return(request, "return_rejected").exists()


# --- The template editor -------------------------------------------------------------------------


def test_a_shop_may_word_the_approval_with_its_variables_and_not_others():
    order = delivered_order()
    saved = message_template_save(
        shop=order.shop,
        kind="return_approved",
        channel="email",
        locale="",
        subject="Return {{ rma }} OK",
        body_text="Slip: {{ slip_url }}\n{{ method_instructions }}",
        body_html="",
        whatsapp_content_sid="",
        actor=None,
    )
    assert saved.pk

    with pytest.raises(TemplateInvalid, match="'slip_url' is not a variable"):
        message_template_save(
            shop=order.shop,
            kind="return_rejected",
            channel="sms",
            locale="",
            subject="",
            body_text="{{ slip_url }}",
            body_html="",
            whatsapp_content_sid="",
            actor=None,
        )


def test_the_shops_wording_reaches_the_customer():
    order = delivered_order()
    message_template_save(
        shop=order.shop,
        kind="return_approved",
        channel="email",
        locale="",
        subject="Return {{ rma }} OK",
        body_text="Slip: {{ slip_url }}",
        body_html="",
        whatsapp_content_sid="",
        actor=None,
    )
    request = file(order, choice(line(order)))
    deliver_events()

    text = rendered(request, "return_approved")

    assert text.subject == f"Return {request.rma} OK"
    assert text.body_text == (
        f"Slip: https://shop.test/returns/{order.tracking_token}/r/{request.rma}/slip/"
    )


def test_the_preview_shows_the_orders_latest_return():
    order = delivered_order()
    request = awaiting_approval(order, choice(line(order)))
    return_request_reject(return_request=request, actor=None, reason="Final sale.")

    context = template_preview_context(shop=order.shop, kind="return_rejected", order=order)
    without = template_preview_context(
        shop=order.shop, kind="return_rejected", order=OrderFactory(shop=order.shop)
    )

    assert context["rma"] == request.rma
    assert context["status_reason"] == "Final sale."
    assert without["rma"] == "R1001-3F2A"  # the documented sample


# --- The marketing pause -------------------------------------------------------------------------


def test_customers_with_an_open_return_are_named_in_one_query(django_assert_num_queries):
    open_one = delivered_order()
    file(open_one, choice(line(open_one)))
    rejected = delivered_order()
    return_request_reject(
        return_request=awaiting_approval(rejected, choice(line(rejected))),
        actor=None,
        reason="No.",
    )
    resolved_one = delivered_order()
    resolved(resolved_one, choice(line(resolved_one)))
    nothing = delivered_order()
    ids = [o.customer_id for o in (open_one, rejected, resolved_one, nothing)]

    with django_assert_num_queries(1):
        paused = customers_with_open_return(ids)

    assert paused == {open_one.customer_id: "a return is open"}
    assert customers_with_open_return([]) == {}


def promo(order: Order) -> Message:
    """A marketing email due now, queued for sending (rendered with the confirmation's
    templates: the pause cares about its purpose only)."""
    message, _ = message_schedule(
        request=MessageRequest(
            shop_id=order.shop_id,
            customer_id=order.customer_id,
            order_id=order.pk,
            kind="order_confirmation",
            channel=Channel.EMAIL,
            purpose=Purpose.MARKETING,
            recipient=order.email,
            about_type="promo",
            about_id=1,
            send_at=timezone.now(),
            context={"shop_name": order.shop.name, "order_number": order.number},
        )
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
    return message


def test_marketing_waits_while_a_return_is_open_and_goes_out_once_it_is_resolved():
    with time_machine.travel(datetime(2026, 6, 15, 7, 0, tzinfo=UTC), tick=False):  # 08:00 BST
        order = delivered_order(timezone="Europe/London")
        ConsentFactory(
            customer=order.customer, shop=order.shop, channel="email", purpose=Purpose.MARKETING
        )
        request = file(order, choice(line(order)))
        deliver_events()
        approval = about_the_return(request, "return_approved").get()
        message = promo(order)
        Message.objects.filter(pk=approval.pk).update(status=MessageStatus.QUEUED)

        assert message_send(message_id=approval.pk) == MessageStatus.SENT  # not held itself
        message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED
    assert message.send_at == datetime(2026, 6, 15, 19, 0, tzinfo=UTC)  # 12 h later
    assert message.status_reason == "marketing paused: a return is open"

    return_request_receive(return_request=request, actor=None)
    item = request.items.get()
    return_request_inspect(
        return_request=request,
        actor=None,
        inspections={item.pk: Inspection(condition="resellable")},
    )
    with time_machine.travel(datetime(2026, 6, 15, 19, 1, tzinfo=UTC), tick=False):
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
        message_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == MessageStatus.SCHEDULED  # inspected is still open

        return_request_resolve(return_request=request)
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
        assert message_send(message_id=message.pk) == MessageStatus.SENT
