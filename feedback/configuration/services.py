"""Every write of the feedback settings page and the case policy page, each checked against the
staff policy and recorded in the shop's settings log (`orders.shop_settings.audit`), all or
nothing: a refused change saves nothing and records nothing."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from feedback.configuration.selectors import SurveyChoices, delay_words, survey_choices_for
from feedback.models import (
    CasePolicy,
    CasePriority,
    SurveyKind,
    SurveySettings,
)
from feedback.reviews.services import review_incentive_save
from feedback.surveys.selectors import SURVEY_REQUEST_KIND
from notifications.services import flow_delay_set
from orders.models import SettingsArea, Shop
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor

# The survey's delay after delivery: at most this long (past it the order is forgotten).
MAX_SURVEY_DELAY = timedelta(days=60)
BUDGET_DAYS_RANGE = (1, 365)
# A target longer than this is no promise (a quarter of a year in business hours).
MAX_TARGET_HOURS = 2000
MAX_HOLIDAYS = 100
WEEKDAYS = range(7)


def _survey_check(choices: SurveyChoices) -> None:
    if choices.kind not in SurveyKind.values:
        raise DomainError(_("Choose what the survey asks."))
    low, high = BUDGET_DAYS_RANGE
    if not low <= choices.budget_days <= high:
        raise DomainError(_("The contact budget is between 1 and 365 days."))
    if not timedelta(0) <= choices.delay <= MAX_SURVEY_DELAY:
        raise DomainError(_("The survey goes out between 0 and 60 days after delivery."))


@transaction.atomic
def feedback_settings_save(*, shop: Shop, actor: Actor, choices: SurveyChoices) -> SurveyChoices:
    """Save what the survey asks, its contact budget, its delay after delivery (the survey
    flow's, through the messaging engine) and the review incentive, all or nothing; record
    what changed. Managers and owners only (StaffPermissionDenied, nothing saved)."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.SURVEY_SETTINGS_EDIT)
    _survey_check(choices)
    settings, _created = SurveySettings.objects.get_or_create(shop=shop)
    settings = row_lock(settings)
    before_kind, before_budget = settings.kind, settings.budget_days
    settings.kind = choices.kind
    settings.budget_days = choices.budget_days
    settings.save(update_fields=["kind", "budget_days", "updated_at"])
    # The delay is the survey flow's: the engine locks its row and says what it was.
    before_delay = flow_delay_set(
        shop_id=shop.pk, kind=SURVEY_REQUEST_KIND, delay=choices.delay, actor=actor
    )
    changes: dict[str, tuple[Any, Any]] = {}
    if before_kind != choices.kind:
        changes["survey"] = (
            str(SurveyKind(before_kind).label),
            str(SurveyKind(choices.kind).label),
        )
    if before_budget != choices.budget_days:
        changes["at most one survey per customer every (days)"] = (
            before_budget,
            choices.budget_days,
        )
    if before_delay != choices.delay:
        changes["sent after delivery"] = (delay_words(before_delay), delay_words(choices.delay))
    if changes:
        settings_change_record(
            shop_id=shop.pk,
            actor=actor,
            area=SettingsArea.FEEDBACK,
            action="survey_settings.changed",
            subject="survey",
            changes=changes,
        )
    # The incentive's own service checks it, saves it and records its change.
    review_incentive_save(
        shop=shop,
        actor=actor,
        kind=choices.incentive_kind,
        discount_text=choices.incentive_discount_text,
        points=choices.incentive_points,
    )
    return survey_choices_for(shop)


# --- The case policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePolicyChoices:
    """What the case policy page saves. `targets`: priority → (first response, resolution)
    in business hours; `hours`: weekday (0 = Monday) → (opens, closes), a closed day absent."""

    targets: Mapping[str, tuple[float, float]]
    hours: Mapping[int, tuple[time, time]]
    holidays: tuple[date, ...]


def case_policy_problems(choices: CasePolicyChoices) -> list[str]:
    """What is wrong with the choices, in words staff can act on; empty when nothing is."""
    problems = []
    for priority in CasePriority:
        first, resolution = choices.targets.get(priority.value, (None, None))
        label = str(priority.label)
        if first is None or resolution is None:
            problems.append(_("%(priority)s: give both targets.") % {"priority": label})
            continue
        if not (0 < first <= MAX_TARGET_HOURS and 0 < resolution <= MAX_TARGET_HOURS):
            problems.append(
                _("%(priority)s: targets are between 1 and 2000 business hours.")
                % {"priority": label}
            )
        elif resolution < first:
            problems.append(
                _("%(priority)s: the resolution target cannot be shorter than the first response.")
                % {"priority": label}
            )
    for day, (opens, closes) in choices.hours.items():
        if day not in WEEKDAYS:
            problems.append(_("Unknown weekday."))
        elif closes <= opens:
            problems.append(_("Closing time must be after opening time."))
    if len(choices.holidays) > MAX_HOLIDAYS:
        problems.append(_("At most 100 holidays."))
    return problems


def _hours_stored(hours: Mapping[int, tuple[time, time]]) -> dict[str, list[str]]:
    return {
        str(day): [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        for day, (opens, closes) in sorted(hours.items())
    }


def _hours_words(stored: Mapping[str, list[str]]) -> str:
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return (
        ", ".join(f"{names[int(day)]} {span[0]}–{span[1]}" for day, span in sorted(stored.items()))
        or "none"
    )


def _targets_stored(targets: Mapping[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    return {
        p.value: {
            "first_response": _whole(targets[p.value][0]),
            "resolution": _whole(targets[p.value][1]),
        }
        for p in CasePriority
    }


def _whole(hours: float) -> float:
    return int(hours) if float(hours).is_integer() else float(hours)


@transaction.atomic
def case_policy_save(*, shop: Shop, actor: Actor, choices: CasePolicyChoices) -> CasePolicy:
    """Save the shop's case policy whole; record what changed. It applies to cases opened from
    now on (an open case keeps the deadlines it was promised). Managers and owners only."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.CASE_POLICY_EDIT)
    problems = case_policy_problems(choices)
    if problems:
        raise DomainError(" ".join(problems))
    policy, _created = CasePolicy.objects.get_or_create(shop=shop)
    policy = row_lock(policy)
    targets = _targets_stored(choices.targets)
    hours = _hours_stored(choices.hours)
    holidays = sorted(set(choices.holidays))
    changes: dict[str, tuple[Any, Any]] = {}
    for priority in CasePriority:
        for which, words in (("first_response", "first response"), ("resolution", "resolution")):
            old = policy.targets.get(priority.value, {}).get(which)
            new = targets[priority.value][which]
            if old != new:
                changes[f"{priority.label} {words} (hours)"] = (old, new)
    if policy.business_hours != hours:
        changes["business hours"] = (_hours_words(policy.business_hours), _hours_words(hours))
    if sorted(policy.holidays) != holidays:
        changes["holidays"] = (
            ", ".join(d.isoformat() for d in sorted(policy.holidays)) or "none",
            ", ".join(d.isoformat() for d in holidays) or "none",
        )
    if not changes:
        return policy
    policy.targets = targets
    policy.business_hours = hours
    policy.holidays = holidays
    policy.save(update_fields=["targets", "business_hours", "holidays", "updated_at"])
    settings_change_record(
        shop_id=shop.pk,
        actor=actor,
        area=SettingsArea.FEEDBACK,
        action="case_policy.changed",
        subject="case policy",
        changes=changes,
    )
    return policy
