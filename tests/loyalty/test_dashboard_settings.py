"""The programme's settings page: starting a programme with its defaults, the rules, tiers and
rewards edited with clear errors and nothing saved on an error, every change in the settings
log, agents reading without changing, and the preview of what a sample order earns."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from loyalty.dashboard.forms import ProgrammeForm, TierFormSet
from loyalty.models import Programme, Reward, Tier
from loyalty.programme.services import RowEdit, programme_start, programme_update, tiers_save
from orders.models import SettingsArea, SettingsChange, StaffRole
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db

SETTINGS = "/dashboard/loyalty/settings/"


def _form_post(form: Any, data: dict[str, str]) -> None:
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or value == "":
            continue
        data[form.add_prefix(name)] = "on" if value is True else str(value)


def loyalty_rules_post(shop, **changes: str) -> dict[str, str]:
    """The rules form as the page shows it for `shop`, with `changes` typed over it."""
    form = ProgrammeForm(instance=Programme.objects.get(shop=shop), shop=shop)
    data: dict[str, str] = {}
    _form_post(form, data)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _formset_post(formset: Any, changes: dict[str, str]) -> dict[str, str]:
    data = {
        formset.management_form.add_prefix(k): str(v)
        for k, v in formset.management_form.initial.items()
    }
    for form in formset.forms:
        _form_post(form, data)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def loyalty_tiers_post(shop, **changes: str) -> dict[str, str]:
    formset = TierFormSet(queryset=Tier.objects.filter(shop=shop), shop=shop, prefix="tiers")
    return _formset_post(formset, changes)


@pytest.fixture
def shop():
    return ShopFactory(currency="EUR", return_window_days=30)


def _staff(client, shop, role: str):
    user = StaffMembershipFactory(shop=shop, role=role).user
    client.force_login(user)
    return user


def _fingerprint(shop) -> tuple:
    programme = Programme.objects.filter(shop=shop).values().first()
    tiers = list(Tier.objects.filter(shop=shop).order_by("pk").values())
    rewards = list(Reward.objects.filter(shop=shop).order_by("pk").values())
    changes = SettingsChange.objects.filter(shop=shop).count()
    return programme, tiers, rewards, changes


# Starting -------------------------------------------------------------------------------------


def test_a_shop_without_a_programme_sees_the_empty_state_and_a_manager_starts_one(client, shop):
    _staff(client, shop, StaffRole.MANAGER)

    page = client.get(SETTINGS).content.decode()
    assert "No loyalty programme yet" in page
    assert "Start a programme" in page

    response = client.post(reverse("loyalty_dashboard:start"))

    assert response.status_code == 302
    programme = Programme.objects.get(shop=shop)
    tiers = list(Tier.objects.filter(shop=shop).order_by("rank"))
    assert [(t.name, t.threshold, t.earn_multiplier) for t in tiers] == [
        ("Bronze", Decimal("0"), Decimal("1.00")),
        ("Silver", Decimal("250"), Decimal("1.25")),
        ("Gold", Decimal("1000"), Decimal("1.50")),
    ]
    assert tiers[2].free_shipping_quarterly
    assert tiers[2].early_access_tag
    offered = Reward.objects.filter(shop=shop, is_active=True)
    assert offered.count() == 3
    assert all(r.points_price > 0 for r in offered)
    assert programme.referral_friend_reward.shop == shop
    assert SettingsChange.objects.get(shop=shop, area=SettingsArea.LOYALTY).action == (
        "loyalty.started"
    )
    # Asked again: the same programme, nothing doubled.
    client.post(reverse("loyalty_dashboard:start"))
    assert Tier.objects.filter(shop=shop).count() == 3


def test_an_agent_cannot_start_a_programme(client, shop):
    _staff(client, shop, StaffRole.AGENT)

    assert "The shop's owner or a manager can start it" in client.get(SETTINGS).content.decode()
    assert client.post(reverse("loyalty_dashboard:start")).status_code == 403
    assert not Programme.objects.filter(shop=shop).exists()


# The rules ------------------------------------------------------------------------------------


def test_a_rules_change_is_saved_and_recorded_with_before_and_after(client, shop):
    user = _staff(client, shop, StaffRole.OWNER)
    programme_start(shop_id=shop.pk, actor=user)

    response = client.post(
        SETTINGS,
        loyalty_rules_post(shop, points_per_unit="2", expiry_months="", review_points="75"),
    )

    assert response.status_code == 302
    programme = Programme.objects.get(shop=shop)
    assert programme.points_per_unit == Decimal("2")
    assert programme.expiry_months is None
    assert programme.review_points == 75
    change = SettingsChange.objects.filter(shop=shop, action="loyalty.rules_changed").get()
    assert change.actor == user
    assert change.changes == {
        "points_per_unit": ["1", "2"],
        "expiry_months": [12, None],
        "review_points": [50, 75],
    }
    page = client.get(SETTINGS).content.decode()
    assert "Rules changed" in page
    assert "points per unit: 1 → 2" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"points_per_unit": "-1"}, "greater than or equal to 0"),
        ({"expiry_months": "0"}, "greater than or equal to 1"),
        ({"point_value": "abc"}, "Enter a number"),
        ({"debt_policy": "forgive"}, "Select a valid choice"),
    ],
)
def test_invalid_rules_are_refused_next_to_the_field_and_change_nothing(
    client, shop, changes, error
):
    _staff(client, shop, StaffRole.MANAGER)
    programme_start(shop_id=shop.pk, actor=None)
    before = _fingerprint(shop)

    response = client.post(SETTINGS, loyalty_rules_post(shop, review_points="99", **changes))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert _fingerprint(shop) == before


def test_an_agent_reads_the_rules_disabled_and_cannot_save_them(client, shop):
    _staff(client, shop, StaffRole.AGENT)
    programme_start(shop_id=shop.pk, actor=None)
    before = _fingerprint(shop)

    page = client.get(SETTINGS).content.decode()
    assert "can read the programme's settings" in page
    assert "Save the rules" not in page
    assert 'id="id_points_per_unit" disabled' in page or "disabled" in page

    assert client.post(SETTINGS, loyalty_rules_post(shop, review_points="1")).status_code == 403
    assert _fingerprint(shop) == before


def test_the_service_checks_the_actor_too(shop):
    programme_start(shop_id=shop.pk, actor=None)
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user

    with pytest.raises(StaffPermissionDenied):
        programme_update(shop_id=shop.pk, actor=agent, values={"review_points": 1})
    with pytest.raises(StaffPermissionDenied):
        tiers_save(shop_id=shop.pk, actor=agent, rows=[])
    assert Programme.objects.get(shop=shop).review_points == 50


# Tiers and rewards ----------------------------------------------------------------------------


def _tier_ids(shop) -> list[int]:
    return list(Tier.objects.filter(shop=shop).order_by("rank").values_list("pk", flat=True))


def test_a_tier_is_added_renamed_and_removed_and_the_ranks_follow_the_thresholds(client, shop):
    _staff(client, shop, StaffRole.MANAGER)
    programme_start(shop_id=shop.pk, actor=None)

    response = client.post(
        reverse("loyalty_dashboard:tiers"),
        loyalty_tiers_post(
            shop,
            **{
                "tiers-1-name": "Argent",
                "tiers-2-DELETE": "on",
                "tiers-3-name": "Platinum",
                "tiers-3-threshold": "5000",
                "tiers-3-earn_multiplier": "2",
            },
        ),
    )

    assert response.status_code == 302
    tiers = list(Tier.objects.filter(shop=shop).order_by("rank"))
    assert [(t.name, t.rank) for t in tiers] == [("Bronze", 0), ("Argent", 1), ("Platinum", 2)]
    actions = set(SettingsChange.objects.filter(shop=shop).values_list("action", flat=True)) - {
        "loyalty.started"
    }
    assert actions == {"loyalty.tier_added", "loyalty.tier_changed", "loyalty.tier_removed"}


def test_a_tiers_perks_are_changed_from_the_dashboard_and_recorded(client, shop):
    user = _staff(client, shop, StaffRole.OWNER)
    programme_start(shop_id=shop.pk, actor=None)
    silver = Tier.objects.get(shop=shop, name="Silver")
    gift = Reward.objects.get(shop=shop, name="Free shipping")

    response = client.post(
        reverse("loyalty_dashboard:tiers"),
        loyalty_tiers_post(
            shop,
            **{
                "tiers-1-earn_multiplier": "1.4",
                "tiers-1-free_shipping_quarterly": "on",
                "tiers-1-early_access_tag": "silver-early",
                "tiers-1-birthday_reward": str(gift.pk),
            },
        ),
    )

    assert response.status_code == 302
    silver.refresh_from_db()
    assert silver.earn_multiplier == Decimal("1.40")
    assert silver.free_shipping_quarterly
    assert silver.early_access_tag == "silver-early"
    assert silver.birthday_reward == gift
    change = SettingsChange.objects.get(shop=shop, action="loyalty.tier_changed")
    assert (change.actor, change.subject) == (user, "Silver")
    assert change.changes["free_shipping_quarterly"] == [False, True]
    assert change.changes["early_access_tag"] == ["", "silver-early"]
    assert change.changes["birthday_reward"][1] == "Free shipping"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"tiers-0-threshold": "10"}, "The lowest tier starts at 0"),
        ({"tiers-1-threshold": "1000"}, "Two tiers have the same threshold"),
        ({"tiers-1-name": "golden"}, "Two tiers have the same name"),
        ({"tiers-1-earn_multiplier": "0.5"}, "greater than or equal to 1"),
        (
            {"tiers-0-DELETE": "on", "tiers-1-DELETE": "on", "tiers-2-DELETE": "on"},
            "Keep at least one tier",
        ),
    ],
)
def test_invalid_tiers_are_refused_and_nothing_is_saved(client, shop, changes, error):
    _staff(client, shop, StaffRole.OWNER)
    programme_start(shop_id=shop.pk, actor=None)
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:tiers"),
        loyalty_tiers_post(shop, **{"tiers-2-name": "Golden", **changes}),
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert _fingerprint(shop) == before


def test_a_tier_members_held_stays_with_a_clear_error(client, shop):
    from tests.factories import CustomerFactory
    from tests.loyalty.dashboard_helpers import programme_with_member

    _staff(client, shop, StaffRole.OWNER)
    programme_with_member(shop, CustomerFactory(shop=shop))  # a member in Bronze
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:tiers"),
        loyalty_tiers_post(shop, **{"tiers-0-DELETE": "on", "tiers-1-threshold": "0"}),
    )

    assert response.status_code == 400
    assert "Bronze has members" in response.content.decode()
    assert _fingerprint(shop) == before


def test_tiers_save_refuses_another_shops_tier(shop):
    programme_start(shop_id=shop.pk, actor=None)
    other = ShopFactory()
    programme_start(shop_id=other.pk, actor=None)
    foreign = Tier.objects.filter(shop=other).first()

    from postpurchase.exceptions import DomainError

    with pytest.raises(DomainError):
        tiers_save(
            shop_id=shop.pk,
            actor=None,
            rows=[RowEdit(id=foreign.pk, values={"name": "Mine", "threshold": Decimal("0")})],
        )
    assert Tier.objects.get(pk=foreign.pk).name == foreign.name


# The preview ----------------------------------------------------------------------------------


def test_the_preview_without_javascript_shows_points_pending_and_value(client, shop):
    _staff(client, shop, StaffRole.AGENT)
    programme_start(shop_id=shop.pk, actor=None)
    gold = Tier.objects.get(shop=shop, name="Gold")

    page = client.get(SETTINGS, {"sample_total": "123.45", "sample_tier": gold.pk})

    html = page.content.decode()
    # 123.45 x 1 point x 1.5 = 185.175: whole points only; 185 x 0.01 EUR.
    assert '<dd id="preview-points"><strong>185</strong>' in html
    assert "1.85 EUR" in html
    assert "30 days after delivery" in html


def test_the_preview_partial_follows_rates_typed_but_not_saved(client, shop):
    _staff(client, shop, StaffRole.MANAGER)
    programme_start(shop_id=shop.pk, actor=None)
    bronze = Tier.objects.get(shop=shop, name="Bronze")

    partial = client.get(
        reverse("loyalty_dashboard:preview"),
        {
            "sample_total": "80",
            "sample_tier": bronze.pk,
            "points_per_unit": "2.5",
            "point_value": "0.02",
        },
    )

    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="preview-result"')
    assert "<strong>200</strong>" in html  # 80 x 2.5 x 1
    assert "4.00 EUR" in html  # 200 x 0.02
    assert Programme.objects.get(shop=shop).points_per_unit == Decimal("1.00")
