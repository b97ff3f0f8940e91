"""Every service that changes money, policy or settings checks its actor against the staff
policy: too low a role (or none in the shop) is refused with StaffPermissionDenied and nothing
changes; enough of one, or the system itself (no actor), goes through."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from loyalty.programme.services import member_points_adjust, programme_update
from notifications.engine.flow_settings import flow_update
from notifications.engine.operations import (
    message_cancel,
    message_retry,
    message_send_now,
    message_settle,
)
from notifications.engine.suppression_list import suppression_add_by_staff, suppression_remove
from notifications.engine.templating import message_template_reset, message_template_save
from notifications.models import Message, MessageStatus, MessageTemplate
from orders.services.problem_resolution import problem_report_resolve
from orders.services.tracking import shop_return_window_set, tracking_link_renew
from postpurchase import permissions as p
from returns.models import ReturnRequest, ReturnStatus
from returns.services import (
    Inspection,
    return_policy_save,
    return_request_approve,
    return_request_inspect,
    return_request_mark_in_transit,
    return_request_receive,
    return_request_reject,
    return_request_resolve,
)
from tests.access.test_dashboard_matrix import _shop_data_fingerprint

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Service:
    action: str
    call: Callable[[Any, Any], Any]
    # The state the object must be in for the call to go through when allowed.
    prepare: Callable[[Any], None] = lambda w: None


def _return_in(status: str) -> Callable[[Any], None]:
    def prepare(w) -> None:
        ReturnRequest.objects.filter(pk=w.return_request.pk).update(status=status)
        w.return_request.refresh_from_db()

    return prepare


def _message_in(status: str) -> Callable[[Any], None]:
    def prepare(w) -> None:
        Message.objects.filter(pk=w.message.pk).update(status=status)

    return prepare


def _template_save(w, actor) -> Any:
    return message_template_save(
        shop=w.shop,
        kind="order_confirmation",
        channel="email",
        locale="",
        subject="Changed",
        body_text="Hello",
        body_html="",
        whatsapp_content_sid="",
        actor=actor,
    )


SERVICES: dict[str, Service] = {
    "return approve": Service(
        p.RETURN_DECIDE,
        lambda w, a: return_request_approve(return_request=w.return_request, actor=a),
    ),
    "return reject": Service(
        p.RETURN_DECIDE,
        lambda w, a: return_request_reject(return_request=w.return_request, actor=a, reason="Worn"),
    ),
    "return in transit": Service(
        p.RETURN_HANDLE,
        lambda w, a: return_request_mark_in_transit(return_request=w.return_request, actor=a),
        _return_in(ReturnStatus.APPROVED),
    ),
    "return receive": Service(
        p.RETURN_RECEIVE,
        lambda w, a: return_request_receive(return_request=w.return_request, actor=a),
        _return_in(ReturnStatus.IN_TRANSIT),
    ),
    "return inspect": Service(
        p.RETURN_RECEIVE,
        lambda w, a: return_request_inspect(
            return_request=w.return_request,
            actor=a,
            inspections={w.item.pk: Inspection(condition="resellable", restock=True)},
        ),
        _return_in(ReturnStatus.RECEIVED),
    ),
    "return resolve (refund)": Service(
        p.RETURN_RESOLVE,
        lambda w, a: return_request_resolve(return_request=w.return_request, actor=a),
        _return_in(ReturnStatus.INSPECTED),
    ),
    "return policy save": Service(
        p.RETURN_POLICY_EDIT,
        lambda w, a: return_policy_save(shop=w.shop, actor=a, return_window_days=61, edits=[]),
    ),
    "return window set": Service(
        p.RETURN_POLICY_EDIT, lambda w, a: shop_return_window_set(shop=w.shop, days=61, actor=a)
    ),
    "template save": Service(p.TEMPLATE_EDIT, _template_save),
    "template reset": Service(
        p.TEMPLATE_EDIT,
        # A fresh instance each time: a delete leaves the instance without its id.
        lambda w, a: message_template_reset(
            template=MessageTemplate.objects.get(pk=w.template_id), actor=a
        ),
    ),
    "flow update": Service(
        p.FLOW_EDIT,
        lambda w, a: flow_update(
            shop_id=w.shop.pk,
            flow_id=w.flow.pk,
            is_enabled=False,
            channels=["email"],
            delay=timedelta(0),
            useful_for=None,
            actor=a,
        ),
    ),
    "suppression add": Service(
        p.SUPPRESSION_EDIT,
        lambda w, a: suppression_add_by_staff(
            shop_id=w.shop.pk, channel="email", address="new@example.org", actor=a
        ),
    ),
    "suppression remove": Service(
        p.SUPPRESSION_EDIT,
        lambda w, a: suppression_remove(
            shop_id=w.shop.pk, suppression_id=w.suppression.pk, actor=a
        ),
    ),
    "message send now": Service(
        p.MESSAGE_OPERATE,
        lambda w, a: message_send_now(message_id=w.message.pk, actor=a),
        _message_in(MessageStatus.SCHEDULED),
    ),
    "message cancel": Service(
        p.MESSAGE_OPERATE,
        lambda w, a: message_cancel(message_id=w.message.pk, actor=a),
        _message_in(MessageStatus.SCHEDULED),
    ),
    "message retry (held)": Service(
        p.MESSAGE_OPERATE,
        lambda w, a: message_retry(message_id=w.message.pk, actor=a, held_confirmed=True),
    ),
    "message retry (failed)": Service(
        p.MESSAGE_OPERATE,
        lambda w, a: message_retry(message_id=w.message.pk, actor=a),
        _message_in(MessageStatus.FAILED),
    ),
    "message settle": Service(
        p.MESSAGE_OPERATE,
        lambda w, a: message_settle(message_id=w.message.pk, actor=a, outcome="sent", note="log"),
    ),
    "tracking link renew": Service(
        p.TRACKING_LINK_RENEW, lambda w, a: tracking_link_renew(order=w.order, actor=a)
    ),
    "problem resolve": Service(
        p.CASE_HANDLE, lambda w, a: problem_report_resolve(report=w.report, actor=a)
    ),
    "loyalty rules update": Service(
        p.LOYALTY_SETTINGS,
        lambda w, a: programme_update(shop_id=w.shop.pk, actor=a, values={"review_points": 7}),
    ),
    "loyalty points adjust": Service(
        p.LOYALTY_ADJUST,
        lambda w, a: member_points_adjust(
            shop_id=w.shop.pk, member_id=w.member.pk, actor=a, points=5, reason="Late", key="s1"
        ),
    ),
}

ACTORS = ("system", "other_owner", "agent", "manager", "owner")


def _actor(w, who: str):
    return None if who == "system" else getattr(w, who)


def _allowed(who: str, action: str) -> bool:
    if who == "system":
        return True
    if who == "other_owner":
        return False  # no role in this shop at all
    return p.role_allows(who, action)


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_checks_its_actor(world, name):
    service = SERVICES[name]
    service.prepare(world)
    before = _shop_data_fingerprint()
    for who in ACTORS:
        with transaction.atomic():
            if _allowed(who, service.action):
                service.call(world, _actor(world, who))
            else:
                with pytest.raises(p.StaffPermissionDenied):
                    service.call(world, _actor(world, who))
                assert _shop_data_fingerprint() == before, f"{who} changed something"
            transaction.set_rollback(True)


def test_a_superuser_is_ops_and_may_do_what_an_owner_may(world):
    world.agent.is_superuser = True
    world.agent.save(update_fields=["is_superuser"])

    shop = shop_return_window_set(shop=world.shop, days=61, actor=world.agent)

    assert shop.return_window_days == 61
