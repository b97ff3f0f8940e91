"""The integrations tab's own sections: the shop's Shopify webhooks and its carriers' tracking
webhooks (what to paste where, whether the secret is set, the last delivery received), and
the owner's way to set those secrets. The messaging providers' sections come from
`notifications` through the tab's registry (`sections`).

A secret is never shown nor written in the record of changes: only that it was set."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from orders.models import (
    CarrierAccount,
    SettingsArea,
    Shop,
    WebhookEvent,
    WebhookProvider,
    WebhookRefusal,
)
from orders.shop_settings.audit import settings_change_record
from orders.shop_settings.sections import SettingsSection, settings_section_register
from orders.tenancy import AnyUser, scoped, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock

# The carriers whose tracking webhooks the project receives (`orders.ingest.carrier_views`).
CARRIER_PROVIDERS = (WebhookProvider.EASYPOST,)


@dataclass(frozen=True)
class Delivery:
    """A delivery as the tab shows it: when, what, and whether its signature checked out."""

    at: datetime
    topic: str
    is_verified: bool
    note: str = ""


def _last_delivery(shop: Shop, provider: str) -> Delivery | None:
    """The latest of the last verified delivery (the inbox) and the last refused one."""
    event = (
        scoped(WebhookEvent, shop)
        .filter(provider=provider)
        .order_by("-created_at")
        .only("created_at", "topic", "status")
        .first()
    )
    refusal = WebhookRefusal.objects.filter(shop=shop, provider=provider).first()
    verified = (
        Delivery(event.created_at, event.topic, True, event.get_status_display()) if event else None
    )
    refused = (
        Delivery(refusal.refused_at, refusal.topic, False, refusal.reason) if refusal else None
    )
    if verified and refused:
        return max(verified, refused, key=lambda delivery: delivery.at)
    return verified or refused


def shopify_integration_section(shop: Shop) -> dict[str, Any]:
    return {
        "webhook_url": settings.PUBLIC_BASE_URL + reverse("webhooks:shopify"),
        "domain": shop.domain or "",
        "secret_is_set": bool(shop.shopify_webhook_secret),
        "last_delivery": _last_delivery(shop, WebhookProvider.SHOPIFY),
    }


def carrier_integrations_section(shop: Shop) -> dict[str, Any]:
    accounts = {a.provider: a for a in scoped(CarrierAccount, shop)}
    carriers = []
    for provider in CARRIER_PROVIDERS:
        account = accounts.get(provider)
        carriers.append(
            {
                "provider": provider,
                "label": WebhookProvider(provider).label,
                "webhook_url": settings.PUBLIC_BASE_URL
                + reverse("webhooks:carrier", kwargs={"provider": provider}),
                "secret_is_set": bool(account and account.webhook_secret and account.is_active),
                "last_delivery": _last_delivery(shop, provider),
            }
        )
    return {"carriers": carriers}


def integration_sections_register() -> None:
    """The tab's own sections; called from the app's `ready()`, as other apps add theirs."""
    settings_section_register(
        SettingsSection(
            key="shopify",
            tab="integrations",
            template_name="orders/shop_settings/_shopify.html",
            context=shopify_integration_section,
            order=30,
        )
    )
    settings_section_register(
        SettingsSection(
            key="carriers",
            tab="integrations",
            template_name="orders/shop_settings/_carriers.html",
            context=carrier_integrations_section,
            order=40,
        )
    )


class SecretInvalid(DomainError):
    pass


def _secret_cleaned(secret: str) -> str:
    secret = secret.strip()
    if len(secret) < 16 or any(char.isspace() for char in secret):
        raise SecretInvalid("Paste the whole secret: at least 16 characters, without spaces.")
    return secret


def shopify_webhook_secret_set(*, shop_id: int, actor: AnyUser | None, secret: str) -> None:
    """Set (or replace) the secret Shopify signs the shop's webhooks with: the API secret key
    of the shop's app. Deliveries signed with the old one are refused from now on."""
    secret = _secret_cleaned(secret)
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.INTEGRATION_EDIT)
        shop = row_lock(Shop.objects.get(pk=shop_id))
        before = "set" if shop.shopify_webhook_secret else "not set"
        shop.shopify_webhook_secret = secret
        # A plain save: the webhook view's per-process cache of the shop hears of it.
        shop.save(update_fields=["shopify_webhook_secret", "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.INTEGRATIONS,
            action="shopify.secret_set",
            subject="Shopify webhook secret",
            changes={"webhook secret": (before, "replaced" if before == "set" else "set")},
        )


def carrier_webhook_secret_set(
    *, shop_id: int, actor: AnyUser | None, provider: str, secret: str
) -> None:
    """Set (or replace) the secret a carrier signs the shop's tracking webhooks with."""
    if provider not in CARRIER_PROVIDERS:
        raise SecretInvalid(f"'{provider}' is not a carrier integration.")
    secret = _secret_cleaned(secret)
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.INTEGRATION_EDIT)
        row_lock(Shop.objects.get(pk=shop_id))
        account = CarrierAccount.objects.filter(shop_id=shop_id, provider=provider).first()
        before = "set" if account and account.webhook_secret and account.is_active else "not set"
        if account is None:
            CarrierAccount.objects.create(shop_id=shop_id, provider=provider, webhook_secret=secret)
        else:
            account.webhook_secret, account.is_active = secret, True
            account.save(update_fields=["webhook_secret", "is_active", "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.INTEGRATIONS,
            action="carrier.secret_set",
            subject=f"{WebhookProvider(provider).label} webhook secret",
            changes={"webhook secret": (before, "replaced" if before == "set" else "set")},
        )
