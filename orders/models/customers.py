import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from orders.models.tenancy import Shop, validate_timezone
from postpurchase.models import TimeStampedModel


def validate_e164(value: str) -> None:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{value}' is not a phone number in E.164 form") from exc
    if not phonenumbers.is_valid_number(number) or value != phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164
    ):
        raise ValidationError(f"'{value}' is not a valid phone number in E.164 form")


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


# What a shop may tell us about a customer, whatever the source.
CUSTOMER_PROFILE_FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "timezone",
    "locale",
)


class Customer(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, validators=[validate_e164])
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    birthday = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    locale = models.CharField(max_length=16, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_customer_shop_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "email"]),
            # Customers are matched by email ignoring case (`email__iexact` is UPPER() = UPPER()).
            models.Index("shop", Upper("email"), name="customer_shop_email_upper_idx"),
            models.Index(fields=["shop", "phone"]),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Customer {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Purpose(models.TextChoices):
    """Why a message is sent, which decides the consent it needs: order updates are
    transactional, everything that sells is marketing."""

    TRANSACTIONAL = "transactional", "Transactional"
    MARKETING = "marketing", "Marketing"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REVOKED = "revoked", _("Revoked")


class Consent(TimeStampedModel):
    """Consent for one channel and purpose, with when and how it was given or taken back.

    Texts (SMS, WhatsApp) need a granted consent for their purpose; email order updates need
    none but stop when revoked; marketing on any channel needs a granted marketing consent."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MARKETING)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    changed_at = models.DateTimeField()
    source = models.CharField(
        max_length=64, help_text="How it was given, e.g. shopify checkout, api, import."
    )
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel", "purpose"],
                name="uniq_consent_customer_channel_purpose",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose}: {self.status}"
