"""Shared makings of the case tests: a shop on New York time open 9-17 Monday to Friday."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feedback.cases.services import case_policy_for, open_case_for_signal
from feedback.models import Case, CasePolicy
from tests.factories import CustomerFactory, OrderFactory, ShopFactory

NEW_YORK = ZoneInfo("America/New_York")
PHONE = "+14155550123"


def ny(*args: int) -> datetime:
    """A New York wall-clock time, as the aware UTC instant it is."""
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


def office_shop(**fields) -> tuple:
    shop = ShopFactory(timezone="America/New_York", **fields)
    policy = case_policy_for(shop)
    policy.business_hours = {str(day): ["09:00", "17:00"] for day in range(5)}
    policy.save()
    return shop, policy


def set_targets(policy: CasePolicy, first: float, resolution: float) -> None:
    policy.targets = {
        p: {"first_response": first, "resolution": resolution}
        for p in ("low", "normal", "high", "urgent")
    }
    policy.save()


def detractor_case(shop, *, source_id: int = 1, score: int = 5, phone: str = "", **kw) -> Case:
    customer = CustomerFactory(shop=shop, phone=phone)
    order = OrderFactory(shop=shop, customer=customer)
    case = open_case_for_signal(
        shop=shop,
        customer=customer,
        order=order,
        source="survey",
        source_id=source_id,
        score=score,
        scale="nps",
        text="The parcel came a week late and nobody answered my email.",
        **kw,
    )
    assert case is not None
    return case
