"""The feedback settings in the dashboard: the survey (what it asks, its delay after delivery,
its contact budget) with the review incentive, and the case policy (targets, business hours,
holidays). Managers and owners change them, agents read them; a refused or invalid change
saves nothing and records nothing; a saved value is the one the next survey or case uses."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import translation

from feedback.cases.services import case_policy_for
from feedback.configuration.forms import CasePolicyForm, SurveySettingsForm
from feedback.models import CasePolicy, IncentiveKind, ReviewIncentive, SurveySettings
from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow
from orders.models import SettingsChange
from tests.factories import ShopFactory, StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, ny, office_shop, set_targets
from tests.feedback.conftest import delivered_order, survey_messages

pytestmark = pytest.mark.django_db

SURVEYS = "/dashboard/feedback/settings/"
POLICY = "/dashboard/feedback/settings/cases/"


def survey_post(**changes) -> dict:
    return {
        "kind": "csat_order",
        "delay_amount": "5",
        "delay_unit": "days",
        "budget_days": "45",
        "incentive_kind": "points",
        "incentive_points": "50",
        "incentive_discount_text": "",
        **changes,
    }


def policy_post(**changes) -> dict:
    data = {"holidays": ""}
    for priority in ("low", "normal", "high", "urgent"):
        data[f"{priority}_first_response"] = "8"
        data[f"{priority}_resolution"] = "24"
    for day in range(7):
        data[f"day{day}_opens"] = "09:00"
        data[f"day{day}_closes"] = "17:00"
        if day < 5:
            data[f"day{day}_open"] = "on"
    data.update(changes)
    return data


def staff_of(shop, role):
    return StaffMembershipFactory(shop=shop, role=role).user


def survey_delay(shop) -> timedelta:
    flows_ensure_defaults(shop_id=shop.pk)
    return Flow.objects.get(shop=shop, kind="survey_request").delay


# --- Surveys and the review incentive --------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_a_manager_saves_the_survey_and_the_next_survey_goes_out_with_the_new_delay(client, role):
    shop = ShopFactory()
    client.force_login(staff_of(shop, role))

    response = client.post(SURVEYS, survey_post())

    assert response.status_code == 302
    settings = SurveySettings.objects.get(shop=shop)
    assert (settings.kind, settings.budget_days) == ("csat_order", 45)
    assert survey_delay(shop) == timedelta(days=5)
    incentive = ReviewIncentive.objects.get(shop=shop)
    assert (incentive.kind, incentive.points) == (IncentiveKind.POINTS, 50)
    # The next delivered order's survey is due five days after delivery, asking the new kind.
    order = delivered_order(shop)
    (message,) = survey_messages(order)
    assert message.send_at == order.delivered_at + timedelta(days=5)
    assert order.survey_requests.get().kind == "csat_order"
    # Both changes are in the shop's settings log, with who made them.
    logged = {c.action: c for c in SettingsChange.objects.filter(shop=shop, area="feedback")}
    assert set(logged) == {"survey_settings.changed", "review_incentive.changed"}
    assert logged["survey_settings.changed"].changes["sent after delivery"] == [
        "3 days",
        "5 days",
    ]
    assert logged["review_incentive.changed"].actor_label


def test_the_page_shows_the_saved_values_and_the_change_log(client):
    shop = ShopFactory()
    client.force_login(staff_of(shop, "manager"))
    client.post(SURVEYS, survey_post(delay_amount="36", delay_unit="hours"))

    page = client.get(SURVEYS)

    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["delay_amount"] == 36
    assert form.initial["delay_unit"] == "hours"
    assert form.initial["kind"] == "csat_order"
    html = page.content.decode()
    assert "36 hours" in html  # the log says what changed
    assert 'aria-current="page">Settings' in html


def test_saving_the_same_values_again_records_nothing_more(client):
    shop = ShopFactory()
    client.force_login(staff_of(shop, "manager"))
    client.post(SURVEYS, survey_post())
    recorded = SettingsChange.objects.filter(shop=shop).count()

    client.post(SURVEYS, survey_post())

    assert SettingsChange.objects.filter(shop=shop).count() == recorded


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"delay_amount": "90"}, "delay_amount"),
        ({"delay_amount": "-1"}, "delay_amount"),
        ({"budget_days": "0"}, "budget_days"),
        ({"kind": "stars"}, "kind"),
        ({"incentive_kind": "discount", "incentive_discount_text": " "}, "incentive_discount_text"),
        ({"incentive_kind": "points", "incentive_points": ""}, "incentive_points"),
    ],
)
def test_an_invalid_survey_setting_is_refused_next_to_its_field_and_changes_nothing(
    client, changes, field
):
    shop = ShopFactory()
    client.force_login(staff_of(shop, "manager"))

    response = client.post(SURVEYS, survey_post(**changes))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert not SurveySettings.objects.filter(shop=shop).exists()
    assert survey_delay(shop) == timedelta(days=3)
    assert not ReviewIncentive.objects.filter(shop=shop).exists()
    assert not SettingsChange.objects.filter(shop=shop).exists()


def test_an_agent_reads_the_survey_settings_and_may_not_change_them(client):
    shop = ShopFactory()
    client.force_login(staff_of(shop, "agent"))

    page = client.get(SURVEYS)
    refused = client.post(SURVEYS, survey_post())

    assert page.status_code == 200
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert "Save settings" not in page.content.decode()
    assert refused.status_code == 403
    assert not SurveySettings.objects.filter(shop=shop).exists()
    assert survey_delay(shop) == timedelta(days=3)
    assert not SettingsChange.objects.filter(shop=shop).exists()


def test_another_shops_manager_changes_only_their_own_shop(client):
    shop, elsewhere = ShopFactory(), ShopFactory()
    client.force_login(staff_of(elsewhere, "manager"))

    client.post(SURVEYS, survey_post())

    assert not SurveySettings.objects.filter(shop=shop).exists()
    assert survey_delay(shop) == timedelta(days=3)
    assert SurveySettings.objects.filter(shop=elsewhere).exists()


# --- The case policy ---------------------------------------------------------------------------


def test_a_manager_saves_the_case_policy_and_a_holiday_stops_the_clock(client):
    shop, _ = office_shop()
    client.force_login(staff_of(shop, "manager"))

    # Monday 7 December is a holiday.
    response = client.post(POLICY, policy_post(holidays="2026-12-07\n2026-12-24"))

    assert response.status_code == 302
    policy = CasePolicy.objects.get(shop=shop)
    assert policy.target("high", "first_response") == timedelta(hours=8)
    assert policy.holidays == [date(2026, 12, 7), date(2026, 12, 24)]
    assert policy.business_hours["0"] == ["09:00", "17:00"]
    assert "5" not in policy.business_hours  # Saturday closed
    change = SettingsChange.objects.get(shop=shop, action="case_policy.changed")
    assert change.changes["holidays"] == ["none", "2026-12-07, 2026-12-24"]
    # Opened Friday 16:00 with 8 business hours to answer: Friday's last hour, the holiday
    # skipped, then Tuesday 9:00-16:00.
    with time_machine.travel(ny(2026, 12, 4, 16, 0), tick=False):
        case = detractor_case(shop)
    assert case.first_response_due_at == ny(2026, 12, 8, 16, 0)


def test_without_the_holiday_the_same_case_is_due_on_monday(client):
    shop, policy = office_shop()
    set_targets(policy, first=8, resolution=24)

    with time_machine.travel(ny(2026, 12, 4, 16, 0), tick=False):
        case = detractor_case(shop)

    assert case.first_response_due_at == ny(2026, 12, 7, 16, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"high_first_response": "24", "high_resolution": "8"}, "high_resolution"),
        ({"normal_first_response": "0"}, "normal_first_response"),
        ({"urgent_resolution": ""}, "urgent_resolution"),
        ({"day0_opens": "17:00", "day0_closes": "09:00"}, "day0_closes"),
        ({"day2_opens": "25:00"}, "day2_opens"),
        ({"holidays": "2026-12-25\nChristmas"}, "holidays"),
    ],
)
def test_an_invalid_case_policy_is_refused_next_to_its_field_and_changes_nothing(
    client, changes, field
):
    shop, policy = office_shop()
    before = (policy.targets, policy.business_hours, policy.holidays)
    client.force_login(staff_of(shop, "owner"))

    response = client.post(POLICY, policy_post(**changes))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "Nothing was saved" in response.content.decode()
    policy.refresh_from_db()
    assert (policy.targets, policy.business_hours, policy.holidays) == before
    assert not SettingsChange.objects.filter(shop=shop).exists()


def test_the_error_says_what_to_fix(client):
    shop, _ = office_shop()
    client.force_login(staff_of(shop, "manager"))

    response = client.post(POLICY, policy_post(high_first_response="24", high_resolution="8"))

    errors = response.context["form"].errors["high_resolution"]
    assert errors == ["Resolution cannot come before the first response (24 hours)."]


def test_an_agent_reads_the_case_policy_and_may_not_change_it(client):
    shop, policy = office_shop()
    client.force_login(staff_of(shop, "agent"))

    page = client.get(POLICY)
    refused = client.post(POLICY, policy_post(holidays="2026-12-07"))

    assert page.status_code == 200
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert refused.status_code == 403
    policy.refresh_from_db()
    assert policy.holidays == []


def test_looking_at_the_case_policy_writes_nothing(client):
    shop = ShopFactory()
    client.force_login(staff_of(shop, "agent"))

    page = client.get(POLICY)

    assert page.status_code == 200
    assert page.context["form"].initial["normal_resolution"] == 72
    assert not CasePolicy.objects.filter(shop=shop).exists()


def test_the_saved_policy_is_shown_again(client):
    shop, _ = office_shop()
    policy = case_policy_for(shop)
    policy.holidays = [date(2026, 12, 25)]
    policy.save()
    client.force_login(staff_of(shop, "manager"))

    form = client.get(POLICY).context["form"]

    assert form.initial["holidays"] == "2026-12-25"
    assert form.initial["day5_open"] is False
    assert form.initial["day0_opens"] == "09:00"


def test_the_settings_forms_have_german_words():
    with translation.override("de"):
        form = CasePolicyForm()
        labels = [str(form.fields[name].label) for name in ("day0_open", "holidays")]
        survey = SurveySettingsForm()

        assert labels == ["Montag: geöffnet", "Feiertage"]
        assert str(survey.fields["kind"].label) == "Was die Umfrage fragt"
