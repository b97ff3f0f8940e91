import phonenumbers
from django.db.models import Q
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import Consent, ConsentStatus, Customer, Shop
from orders.models.customers import CUSTOMER_PROFILE_FIELDS
from orders.services.data import ConsentData, CustomerData
from postpurchase import events


def phone_to_e164(raw: str, *, default_region: str | None = None) -> str:
    """The number in E.164 form, or "" when it is not a valid phone number."""
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, default_region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _find_customer(shop: Shop, data: CustomerData) -> Customer | None:
    qs = Customer.objects.select_for_update().filter(shop=shop, redacted_at__isnull=True)
    if data.external_id:
        found = qs.filter(external_id=data.external_id).first()
        if found:
            return found
    match = Q()
    if data.email:
        match |= Q(email__iexact=data.email)
    if data.phone:
        match |= Q(phone=data.phone)
    if not match:
        return None
    # A customer known by another external id is someone else who shares the address.
    candidates = qs.filter(match)
    if data.external_id:
        candidates = candidates.filter(external_id="")
    return candidates.order_by("pk").first()


def customer_upsert(*, shop: Shop, data: CustomerData, publish: bool = True) -> Customer:
    """Find the customer by external id, else email, else phone; create or fill in the profile.

    Blank values never erase what we already know. Call inside a transaction. A birthday
    entered or changed publishes `customer_birthday_changed` (not for backfilled history:
    `publish=False`)."""
    customer = _find_customer(shop, data)
    if customer is None:
        customer = Customer(shop=shop)
    changed = [
        name
        for name in CUSTOMER_PROFILE_FIELDS
        if getattr(data, name) not in ("", None) and getattr(customer, name) != getattr(data, name)
    ]
    for name in changed:
        setattr(customer, name, getattr(data, name))
    if customer.pk is None:
        customer.save()
    elif changed:
        customer.save(update_fields=[*changed, "updated_at"])
    if publish and "birthday" in changed:
        events.publish(
            name=OrderEventName.CUSTOMER_BIRTHDAY_CHANGED,
            shop_id=shop.pk,
            customer_id=customer.pk,
            birthday=customer.birthday.isoformat() if customer.birthday else None,
            changed_at=timezone.now().isoformat(),
        )
    for consent in data.consents:
        consent_record(customer=customer, data=consent)
    return customer


def consent_record(*, customer: Customer, data: ConsentData) -> Consent:
    """Store the customer's consent for a channel and purpose, with when and how; a report that
    says what we already hold changes nothing (not even its date)."""
    status = ConsentStatus.GRANTED if data.is_granted else ConsentStatus.REVOKED
    consent, created = Consent.objects.get_or_create(
        customer=customer,
        channel=data.channel,
        purpose=data.purpose,
        defaults={
            "shop_id": customer.shop_id,
            "status": status,
            "changed_at": data.changed_at or timezone.now(),
            "source": data.source,
            "detail": data.detail,
        },
    )
    if not created and consent.status != status:
        consent.status = status
        consent.changed_at = data.changed_at or timezone.now()
        consent.source = data.source
        consent.detail = data.detail
        consent.save(update_fields=["status", "changed_at", "source", "detail", "updated_at"])
    return consent
