"""The settings area's integrations tab, its own sections: Shopify's webhooks and the carriers'
(the URL to paste, whether the secret is set, the last delivery and whether it verified), the
owner setting a secret (never shown, recorded), managers reading, agents kept out."""

import pytest
from django.urls import reverse

from orders.models import CarrierAccount, SettingsChange, Shop, StaffRole, WebhookRefusal
from orders.shop_settings.integrations import (
    SecretInvalid,
    carrier_webhook_secret_set,
    shopify_webhook_secret_set,
)
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import ShopFactory, StaffMembershipFactory
from tests.orders import test_carrier_webhooks as carrier_webhooks
from tests.orders.test_shopify_webhooks import deliver, order_payload

pytestmark = pytest.mark.django_db

URL = "/dashboard/settings/integrations/"
NEW_SECRET = "shpss_0123456789abcdef0123456789ab"


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


@pytest.fixture
def manager(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user


def _page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("shop_settings:integrations"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_tab_lives_beside_the_other_settings_tabs():
    assert reverse("shop_settings:integrations") == URL


def test_the_shopify_section_gives_the_url_to_paste_and_says_the_secret_is_set_without_it(
    client, shop, owner
):
    page = _page(client, owner)

    assert "https://shop.test/webhooks/shopify/" in page
    assert shop.domain in page
    assert shop.shopify_webhook_secret not in page
    assert "Set</span>" in page
    assert "none yet" in page  # no delivery received


def test_without_a_secret_or_a_domain_the_shopify_section_says_so(client, shop, owner):
    Shop.objects.filter(pk=shop.pk).update(shopify_webhook_secret="", domain=None)

    page = _page(client, owner)

    assert "Not set</span>" in page
    assert "deliveries cannot be matched to this shop" in page


def test_the_last_verified_shopify_delivery_is_shown_with_its_topic(client, shop, owner):
    assert deliver(client, shop, "orders/create", order_payload()).status_code == 200

    page = _page(client, owner)

    assert "orders/create: verified" in page


def test_a_delivery_refused_for_its_signature_is_recorded_and_shown_as_refused(client, shop, owner):
    deliver(client, shop, "orders/create", order_payload())
    response = deliver(
        client, shop, "orders/updated", order_payload(), X_Shopify_Hmac_Sha256="bm9wZQ=="
    )
    assert response.status_code == 401

    refusal = WebhookRefusal.objects.get(shop=shop)
    assert (refusal.provider, refusal.topic, refusal.reason) == (
        "shopify",
        "orders/updated",
        "invalid signature",
    )
    # A second refusal overwrites the one row: forged deliveries cannot grow the table.
    deliver(client, shop, "orders/paid", order_payload(), X_Shopify_Hmac_Sha256=None)
    assert WebhookRefusal.objects.get(shop=shop).count == 2
    page = _page(client, owner)
    assert "orders/paid: <strong>refused (missing signature)</strong>" in page


def test_the_owner_sets_the_shopify_secret_which_is_recorded_but_never_written(client, shop, owner):
    client.force_login(owner)

    response = client.post(
        reverse("shop_settings:integration_shopify_secret"),
        {"shopify-secret": f"  {NEW_SECRET} "},
        follow=True,
    )

    shop.refresh_from_db()
    assert shop.shopify_webhook_secret == NEW_SECRET
    change = SettingsChange.objects.get(area="integrations")
    assert (change.action, change.changes) == (
        "shopify.secret_set",
        {"webhook secret": ["set", "replaced"]},
    )
    page = response.content.decode()
    assert "The Shopify webhook secret is set." in page
    assert NEW_SECRET not in page
    assert NEW_SECRET not in str(SettingsChange.objects.values_list("changes", flat=True))
    # Deliveries signed with the new secret are accepted at once.
    assert deliver(client, shop, "orders/create", order_payload()).status_code == 200


def test_a_secret_too_short_to_be_one_is_refused_and_nothing_changes(client, shop, owner):
    before = shop.shopify_webhook_secret

    with pytest.raises(SecretInvalid):
        shopify_webhook_secret_set(shop_id=shop.pk, actor=owner, secret="short one")

    shop.refresh_from_db()
    assert shop.shopify_webhook_secret == before
    assert not SettingsChange.objects.exists()


def test_a_manager_reads_the_tab_but_has_no_forms_and_may_not_set_a_secret(client, shop, manager):
    page = _page(client, manager)

    assert "https://shop.test/webhooks/shopify/" in page
    assert "Save the secret" not in page
    assert "Send a test email" not in page
    assert "Only the shop's owner can change integrations" in page
    with pytest.raises(StaffPermissionDenied):
        shopify_webhook_secret_set(shop_id=shop.pk, actor=manager, secret=NEW_SECRET)


def test_an_agent_may_not_open_the_tab(client, shop):
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user
    client.force_login(agent)

    assert client.get(reverse("shop_settings:integrations")).status_code == 403


def test_the_carrier_section_says_whether_its_secret_is_set_and_its_last_delivery(
    client, shop, owner
):
    page = _page(client, owner)
    assert "https://shop.test/webhooks/carriers/easypost/" in page
    assert "EasyPost" in page
    assert "Not set</span>" in page

    CarrierAccount.objects.create(
        shop=shop, provider="easypost", webhook_secret=carrier_webhooks.SECRET
    )
    payload = carrier_webhooks.load("tracker_updated")
    assert carrier_webhooks.post(client, payload).status_code == 200

    page = _page(client, owner)
    assert carrier_webhooks.SECRET not in page
    assert f"{payload['description']}: verified" in page


def test_the_owner_sets_a_carrier_secret_and_its_deliveries_are_then_accepted(client, shop, owner):
    client.force_login(owner)

    client.post(
        reverse("shop_settings:integration_carrier_secret", args=["easypost"]),
        {"easypost-secret": carrier_webhooks.SECRET},
    )

    account = CarrierAccount.objects.get(shop=shop, provider="easypost")
    assert account.webhook_secret == carrier_webhooks.SECRET
    assert SettingsChange.objects.get().changes == {"webhook secret": ["not set", "set"]}
    payload = carrier_webhooks.load("tracker_updated")
    assert carrier_webhooks.post(client, payload).status_code == 200


def test_an_unknown_carrier_is_a_404(client, shop, owner):
    client.force_login(owner)

    response = client.post(
        reverse("shop_settings:integration_carrier_secret", args=["fedex"]),
        {"fedex-secret": carrier_webhooks.SECRET},
    )

    assert response.status_code == 404
    with pytest.raises(SecretInvalid):
        carrier_webhook_secret_set(
            shop_id=shop.pk, actor=owner, provider="fedex", secret=carrier_webhooks.SECRET
        )


def test_another_shops_deliveries_are_not_shown(client, shop, owner):
    other = ShopFactory()
    deliver(client, other, "orders/create", order_payload())

    page = _page(client, owner)

    assert "orders/create" not in page
