import zoneinfo
from datetime import date

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from postpurchase.models import TimeStampedModel


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone")


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1a73e8.")


class Shop(TimeStampedModel):
    """A merchant: the tenant every merchant-owned row belongs to."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # The shop's platform domain, e.g. `acme.myshopify.com`; identifies incoming webhooks.
    domain = models.CharField(max_length=255, unique=True, null=True, blank=True)
    website_url = models.URLField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=16, default="en")
    logo_url = models.URLField(blank=True)
    primary_colour = models.CharField(max_length=7, default="#1a56db", validators=[hex_colour])
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=32, blank=True)
    # Who the shop's emails come from and where replies go (blank: the platform's address,
    # the shop's name and its support address); set in the settings area.
    email_from_name = models.CharField(max_length=100, blank=True)
    email_from_address = models.EmailField(blank=True)
    email_reply_to = models.EmailField(blank=True)
    # A shop with a number of its own sends its texts from it, and replies to it (STOP above
    # all) reach this shop even before it has texted the sender.
    sms_number = models.CharField(
        max_length=20,
        blank=True,
        help_text="E.164 number this shop's texts are sent from (blank: the platform's sender).",
    )
    shopify_webhook_secret = models.CharField(
        max_length=255, blank=True, help_text="The app's API secret key; signs Shopify webhooks."
    )
    shopify_access_token = models.CharField(
        max_length=255,
        blank=True,
        help_text="Admin API access token of the shop's app (write_orders); requests refunds.",
    )
    marketing_weekly_cap = models.PositiveSmallIntegerField(
        default=3,
        help_text="At most this many marketing messages per customer in any 7 days (0: none).",
    )
    return_window_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after delivery in which customers may start a return."
    )
    is_active = models.BooleanField(default=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # A number belongs to one shop: its replies must reach exactly one.
            models.UniqueConstraint(
                fields=["sms_number"], condition=~Q(sms_number=""), name="uniq_shop_sms_number"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The shop's time zone: where its days (its numbers, its dates) begin and end. UTC for
        a name this machine's zone database no longer knows."""
        try:
            return zoneinfo.ZoneInfo(self.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def today(self) -> date:
        return timezone.now().astimezone(self.zone).date()

    @property
    def phone_region(self) -> str | None:
        """The country a phone number typed without its country code is read in: that of the
        shop's own numbers, else the territory of its locale (`de-AT`); None when neither says.
        The shop has no country of its own, and its staff type numbers as they dial them."""
        for own in (self.sms_number, self.support_phone):
            try:
                number = phonenumbers.parse(own, None)
            except phonenumbers.NumberParseException:
                continue
            if number.country_code is None:
                continue
            # By country code, not by number: a fictional 555 number still says "US".
            region = phonenumbers.region_code_for_country_code(number.country_code)
            if region != phonenumbers.UNKNOWN_REGION:
                return region
        _, _, territory = self.locale.replace("_", "-").partition("-")
        return territory.upper() if len(territory) == 2 else None


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"


class StaffMembership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=StaffRole.choices, default=StaffRole.AGENT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="uniq_membership_user_shop")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"
