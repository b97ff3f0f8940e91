"""`loyalty_reward_available`: a granted code is told to its customer once it is issued, with
the code; a member whose points now afford a reward hears of it once, and of the dearest."""

import pytest

from loyalty.ledger import Booking, entry_book, member_for, points_reserve
from loyalty.messages import REWARD_AVAILABLE
from loyalty.models import EntryKind, Member, RedemptionSource, RewardKind, Subject
from loyalty.rewards.codes import reward_grant
from loyalty.rewards.notices import rewards_affordable_notify
from loyalty.tasks import reward_available_notify_task
from notifications.models import Message
from postpurchase.queue import Enqueue
from tests.factories import ConsentFactory, CustomerFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db


def reachable(shop, points: int = 0) -> Member:
    customer = CustomerFactory(shop=shop)
    ConsentFactory(customer=customer, channel="email")
    member = member_for(customer)
    if points:
        entry_book(
            member.pk,
            Booking(EntryKind.ADJUST, f"fund:{member.pk}", Subject.STAFF, available=points),
        )
    return member


def told() -> list[tuple[int, str, int]]:
    return sorted(
        Message.objects.filter(kind=REWARD_AVAILABLE).values_list(
            "customer_id", "about_type", "about_id"
        )
    )


def test_a_granted_code_is_told_with_its_code_once(shop, django_capture_on_commit_callbacks):
    member = reachable(shop)
    reward = RewardFactory(
        shop=shop, name="Free shipping", kind=RewardKind.FREE_SHIPPING, value=0, points_price=0
    )
    with django_capture_on_commit_callbacks() as callbacks:
        granted = reward_grant(
            customer=member.customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="b:1"
        )
    [task] = [
        c
        for c in callbacks
        if isinstance(c, Enqueue) and c.name == reward_available_notify_task.name
    ]

    assert reward_available_notify_task(*task.args) == 1
    reward_available_notify_task(*task.args)

    [message] = Message.objects.filter(kind=REWARD_AVAILABLE)
    assert (message.about_type, message.about_id) == ("redemption", granted.pk)
    assert message.recipient == member.customer.email
    assert message.context["code"] == granted.code
    assert message.context["reward_name"] == "Free shipping"
    assert message.context["ends_on"] == granted.ends_at.date().isoformat()


def test_members_hear_once_of_the_dearest_reward_their_spendable_points_afford(shop):
    cheap = RewardFactory(shop=shop, points_price=500)
    dear = RewardFactory(shop=shop, points_price=900)
    rich = reachable(shop, 1000)
    middling = reachable(shop, 600)
    reachable(shop, 100)
    holding = reachable(shop, 600)
    points_reserve(holding.pk, 500)

    assert rewards_affordable_notify() == 2
    assert rewards_affordable_notify() == 0

    assert told() == sorted(
        [(rich.customer_id, "reward", dear.pk), (middling.customer_id, "reward", cheap.pk)]
    )
    message = Message.objects.get(customer_id=middling.customer_id)
    assert message.context["points_available"] == 600
