"""What the feedback settings pages show: the shop's saved values, else the defaults. Reads
only: a shop that never saved its settings gets none written by looking at them."""

from dataclasses import dataclass
from datetime import timedelta

from feedback.models import CasePolicy, IncentiveKind, ReviewIncentive, SurveySettings
from feedback.surveys.selectors import SURVEY_REQUEST_KIND
from notifications.services import flow_delay_for
from orders.models import Shop


@dataclass(frozen=True)
class SurveyChoices:
    """What the feedback settings page shows and saves."""

    kind: str
    budget_days: int
    delay: timedelta
    incentive_kind: str
    incentive_discount_text: str = ""
    incentive_points: int = 0


def delay_words(delay: timedelta) -> str:
    hours = delay / timedelta(hours=1)
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} hours"


def survey_choices_for(shop: Shop) -> SurveyChoices:
    """The survey's settings, its delay after delivery (the survey flow's) and the review
    incentive, as saved or by default."""
    settings = SurveySettings.objects.filter(shop=shop).first() or SurveySettings(shop=shop)
    incentive = ReviewIncentive.objects.filter(shop=shop).first()
    return SurveyChoices(
        kind=settings.kind,
        budget_days=settings.budget_days,
        delay=flow_delay_for(shop_id=shop.pk, kind=SURVEY_REQUEST_KIND),
        incentive_kind=incentive.kind if incentive else IncentiveKind.NONE,
        incentive_discount_text=incentive.discount_text if incentive else "",
        incentive_points=incentive.points if incentive else 0,
    )


def case_policy_current(shop: Shop) -> CasePolicy:
    """The shop's case policy, or the defaults (unsaved) for a shop that never changed it."""
    return CasePolicy.objects.filter(shop=shop).first() or CasePolicy(shop=shop)
