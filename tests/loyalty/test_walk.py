"""The issue's "done when", walked on the seeded demo shop where a user would: the demo
customer's loyalty page shows points pending from an order with the day they confirm; past the
return window the sweep confirms them and the page shows them available; the customer redeems
a reward on the page and sees the code; an item of that order comes back through the returns
service and the page shows exactly that line's points taken back; a paid order crossing the
next tier's threshold moves them up at once, with the tier's perks applied (the tier-up message,
this quarter's free-shipping code, the higher multiplier on the next order); staff read the
programme's numbers, members and settings."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model

from loyalty.earning.orders import earnings_confirm_due
from loyalty.messages import LOYALTY_TIER_UP
from loyalty.models import (
    EarningStatus,
    EntryKind,
    LedgerEntry,
    LineEarning,
    Member,
    OrderEarning,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Tier,
)
from loyalty.pages.words import MINUS
from loyalty.tiers.services import trailing_spend
from loyalty.tokens import loyalty_path
from notifications.models import Message
from orders.demo import demo_reference_now, demo_seed
from orders.demo.reference import STAFF_USERNAME
from returns.services import (
    Inspection,
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from returns.services.requests import ItemChoice
from tests.loyalty.tiers_helpers import deliver_events, ingest, order_data

pytestmark = pytest.mark.django_db


def _page(client, customer) -> str:
    response = client.get(loyalty_path(customer))
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str, heading_id: str) -> str:
    """The card whose heading has `heading_id`, up to the next card."""
    start = html.index(f'id="{heading_id}"')
    end = html.find('<section class="card"', start)
    return html[start : end if end != -1 else len(html)]


def _number(points: int) -> str:
    return f"{points:,}"


def _demo_walker():
    from loyalty.demo.customer import demo_customer_find  # after the seed: see test_demo

    demo = demo_seed(scale=0.1, seed=7)
    member = demo_customer_find(demo.shop)
    earning = (
        OrderEarning.objects.filter(
            member=member, status=EarningStatus.PENDING, confirm_at__isnull=False
        )
        .select_related("order")
        .order_by("-confirm_at")
        .first()
    )
    return demo, member, earning


def test_the_demo_customer_walks_the_programme_and_staff_read_it(
    client, django_capture_on_commit_callbacks
):
    demo, member, earning = _demo_walker()
    customer, order = member.customer, earning.order
    staff = get_user_model().objects.get(username=STAFF_USERNAME)

    # Points pending from a delivered order, with the day they become the customer's.
    html = _page(client, customer)
    pending = _section(html, "balance")
    assert order.number in pending
    assert "yours on" in pending.split(order.number, 1)[1].split("</li>", 1)[0]
    assert earning.confirm_at > demo_reference_now() + timedelta(days=5)

    # The customer sends one unit of the order's dearest line back, within the window.
    line = max(order.line_items.all(), key=lambda li: li.line_total)
    earned = LineEarning.objects.get(line_item=line)
    request, _created = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk, quantity=1, reason_code="too_small", resolution="refund"
            )
        ],
        method="drop_off",
        submission_key="walk-return",
    )
    if request.status == "requested":
        request = return_request_approve(return_request=request, actor=staff)
    deliver_events(django_capture_on_commit_callbacks)

    # Past the return window the sweep confirms the order's points.
    member.refresh_from_db()
    before = member.available
    later = earning.confirm_at + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        assert earnings_confirm_due() >= 1
        earning.refresh_from_db()
        assert earning.status == EarningStatus.CONFIRMED
        confirmed = LedgerEntry.objects.get(idempotency_key=f"confirm:order:{order.pk}")
        member.refresh_from_db()
        assert member.available == before + confirmed.available_delta
        html = _page(client, customer)
        assert (
            f"{_number(confirmed.available_delta)} points for order {order.number} confirmed"
            in html
        )
        assert order.number not in _section(html, "balance")

        # The customer redeems the cheapest reward on the page and sees its code.
        rewards = _section(html, "rewards")
        reward_id = re.search(r'name="reward" value="(\d+)"', rewards).group(1)
        form_key = re.search(r'name="key" value="([^"]+)"', rewards).group(1)
        response = client.post(
            f"{loyalty_path(customer)}redeem/", {"reward": reward_id, "key": form_key}
        )
        assert response.status_code == 303
        redemption = Redemption.objects.get(
            member=member,
            status=RedemptionStatus.ISSUED,
            source=RedemptionSource.POINTS,
            reward_id=int(reward_id),
            created_at=later,
        )
        html = client.get(response["Location"]).content.decode()
        assert redemption.code in html
        member.refresh_from_db()
        assert member.available == before + confirmed.available_delta - redemption.points

        # The returned item arrives and is refunded: exactly that unit's points go.
        request = return_request_receive(return_request=request, actor=staff)
        request = return_request_inspect(
            return_request=request,
            actor=staff,
            inspections={i.pk: Inspection("resellable") for i in request.items.all()},
        )
        return_request_resolve(return_request=request, actor=staff)
        deliver_events(django_capture_on_commit_callbacks)
        taken = earned.points * 1 // earned.quantity
        assert taken > 0
        clawback = LedgerEntry.objects.get(kind=EntryKind.CLAWBACK, member=member, order=order)
        assert clawback.available_delta == -taken
        html = _page(client, customer)
        assert f"{MINUS}{_number(taken)}: item returned" in html
        member.refresh_from_db()
        assert member.available == before + confirmed.available_delta - redemption.points - taken

        # A paid order that crosses the next tier's threshold moves the customer up at once.
        tiers = list(Tier.objects.filter(shop=demo.shop).order_by("rank"))
        assert member.tier.rank < tiers[-1].rank
        following = tiers[member.tier.rank + 1]
        spend = trailing_spend(shop_id=demo.shop.pk, customer_id=customer.pk, now=later)
        total = following.threshold - spend + Decimal("20.00")
        ingest(demo.shop, order_data(customer, "WALK-1", f"{total:.2f}"))
        ran = deliver_events(django_capture_on_commit_callbacks)
        member.refresh_from_db()
        assert member.tier == following
        assert member.tier_since == later
        assert "loyalty.tasks.customer_tier_recompute_task" in ran

        # Its perks: the tier-up message, this quarter's free shipping, the multiplier.
        assert Message.objects.filter(customer=customer, kind=LOYALTY_TIER_UP).exists()
        if following.free_shipping_quarterly:
            assert "loyalty.tasks.member_free_shipping_grant_task" in ran
            perk = Redemption.objects.get(member=member, source=RedemptionSource.TIER_PERK)
            assert perk.status == RedemptionStatus.ISSUED
            html = _page(client, customer)
            assert perk.code in _section(html, "codes")
        html = _page(client, customer)
        assert f">{following.name}<" in _section(html, "tier")
        ingest(demo.shop, order_data(customer, "WALK-2", "40.00"))
        deliver_events(django_capture_on_commit_callbacks)
        next_earn = LedgerEntry.objects.get(
            member=member, kind=EntryKind.EARN, order__external_id="WALK-2"
        )
        assert (next_earn.tier_name, next_earn.multiplier) == (
            following.name,
            following.earn_multiplier,
        )
        assert next_earn.pending_delta == int(40 * following.earn_multiplier)

        # Staff run the programme and read its numbers.
        client.force_login(staff)
        numbers = client.get("/dashboard/loyalty/")
        assert numbers.status_code == 200
        issued = re.search(r'id="kpi-issued-value">([\d,]+)<', numbers.content.decode())
        assert issued is not None
        assert int(issued.group(1).replace(",", "")) > 0
        members = client.get("/dashboard/loyalty/members/", {"q": customer.email})
        assert members.status_code == 200
        assert customer.email in members.content.decode()
        page = client.get(f"/dashboard/loyalty/members/{member.pk}/")
        assert page.status_code == 200
        assert "item returned" in page.content.decode() or order.number in page.content.decode()
        assert client.get("/dashboard/loyalty/settings/").status_code == 200
        assert Member.objects.filter(shop=demo.shop).count() > 10
