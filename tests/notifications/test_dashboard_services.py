"""The services behind the messaging dashboard's forms, called directly."""

from datetime import timedelta

import pytest

from notifications.engine.flow_settings import flow_delay_for, flow_delay_set, flow_update
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.suppression_list import (
    suppression_add_by_staff,
    suppression_remove,
)
from notifications.models import Flow, Suppression, SuppressionReason
from orders.models import StaffRole
from postpurchase.exceptions import DomainError
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(shop) -> Flow:
    flows_ensure_defaults(shop_id=shop.pk)
    return Flow.objects.get(shop=shop, kind="order_confirmation")


def _update(flow: Flow, **overrides):
    values = {
        "shop_id": flow.shop_id,
        "flow_id": flow.pk,
        "is_enabled": True,
        "channels": ["email"],
        "delay": timedelta(hours=1),
        "useful_for": None,
        "actor": None,
    }
    values.update(overrides)
    return flow_update(**values)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"delay": timedelta(hours=-1)}, "cannot be negative"),
        ({"delay": timedelta(days=366)}, "at most 365 days"),
        ({"useful_for": timedelta(0)}, "more than zero"),
        ({"channels": []}, "at least one channel"),
        ({"channels": ["email", "fax"]}, "unknown channel: fax"),
    ],
)
def test_flow_update_refuses_bad_values_and_changes_nothing(flow, overrides, error):
    before = (flow.channels, flow.delay, flow.useful_for, flow.updated_at)

    with pytest.raises(DomainError, match=error):
        _update(flow, **overrides)

    flow.refresh_from_db()
    assert (flow.channels, flow.delay, flow.useful_for, flow.updated_at) == before


def test_flow_update_cannot_reach_another_shops_flow(flow, other_shop):
    with pytest.raises(Flow.DoesNotExist):
        _update(flow, shop_id=other_shop.pk, is_enabled=False)

    flow.refresh_from_db()
    assert flow.is_enabled


def test_suppression_add_by_staff_normalises_and_records_who(shop, staff):
    suppression, created = suppression_add_by_staff(
        shop_id=shop.pk, channel="email", address=" Ada@Example.ORG", actor=staff
    )

    assert created
    assert suppression.address == "ada@example.org"
    assert suppression.reason == SuppressionReason.MANUAL
    assert suppression.source == "dashboard"


@pytest.mark.parametrize(
    ("channel", "address"), [("email", "nope"), ("sms", "+1 415 555 0123"), ("fax", "+14155550123")]
)
def test_suppression_add_by_staff_refuses_a_bad_address(shop, staff, channel, address):
    with pytest.raises(DomainError):
        suppression_add_by_staff(shop_id=shop.pk, channel=channel, address=address, actor=staff)

    assert not Suppression.objects.exists()


def _suppression(shop) -> Suppression:
    return Suppression.objects.create(
        shop=shop, channel="email", address="ada@example.org", reason=SuppressionReason.STOP
    )


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(StaffRole.OWNER, True), (StaffRole.MANAGER, True), (StaffRole.AGENT, False)],
)
def test_suppression_remove_needs_an_owner_or_manager(shop, role, allowed):
    user = StaffMembershipFactory(shop=shop, role=role).user
    suppression = _suppression(shop)

    if allowed:
        suppression_remove(shop_id=shop.pk, suppression_id=suppression.pk, actor=user)
    else:
        with pytest.raises(StaffPermissionDenied):
            suppression_remove(shop_id=shop.pk, suppression_id=suppression.pk, actor=user)

    assert Suppression.objects.exists() is not allowed


def test_a_manager_of_another_shop_cannot_remove(shop, other_shop):
    manager_elsewhere = StaffMembershipFactory(shop=other_shop, role=StaffRole.MANAGER).user
    suppression = _suppression(shop)

    with pytest.raises(StaffPermissionDenied):
        suppression_remove(shop_id=shop.pk, suppression_id=suppression.pk, actor=manager_elsewhere)

    assert Suppression.objects.exists()


def test_flow_delay_set_moves_only_the_delay_of_that_kinds_flow(shop):
    # A shop whose flows were never copied gets them, and the default delay is the kind's.
    assert flow_delay_for(shop_id=shop.pk, kind="care_guide") == timedelta(days=3)
    before = flow_delay_set(
        shop_id=shop.pk, kind="care_guide", delay=timedelta(hours=5), actor=None
    )

    flow = Flow.objects.get(shop=shop, kind="care_guide")
    assert before == timedelta(days=3)
    assert flow.delay == timedelta(hours=5)
    assert flow_delay_for(shop_id=shop.pk, kind="care_guide") == timedelta(hours=5)
    assert Flow.objects.filter(shop=shop, delay=timedelta(hours=5)).count() == 1


@pytest.mark.parametrize("delay", [timedelta(hours=-1), timedelta(days=366)])
def test_flow_delay_set_refuses_a_delay_out_of_range(shop, delay):
    with pytest.raises(DomainError):
        flow_delay_set(shop_id=shop.pk, kind="care_guide", delay=delay, actor=None)


def test_flow_delay_set_is_a_managers(shop):
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user

    with pytest.raises(StaffPermissionDenied):
        flow_delay_set(shop_id=shop.pk, kind="care_guide", delay=timedelta(1), actor=agent)
