"""The messaging providers on the settings area's integrations tab: the email provider and
Twilio as configured (no provider called to show them), the last message sent and receipt
received for the shop, and the test sends, which go through the real channel adapters (the
email backend; the twilio client against a local fake Twilio), are recorded, and show the
provider's error plainly."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.engine.provider_checks import (
    ProviderTestRefused,
    email_provider_configured,
    email_test_send,
    text_test_send,
)
from notifications.models import ProviderEvent
from orders.models import SettingsChange, Shop, StaffRole
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import OrderFactory, StaffMembershipFactory, UserFactory
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGES_PATH,
    twilio_accepts,
    twilio_form,
)
from tests.notifications.test_outbox import queued
from tests.notifications.test_twilio_sending import queued_text

pytestmark = pytest.mark.django_db

INTEGRATIONS = "/dashboard/settings/integrations/"


@pytest.fixture
def owner(shop):
    user = UserFactory(email="owner@acme.test")
    StaffMembershipFactory(shop=shop, user=user, role=StaffRole.OWNER)
    return user


def _page(client, user) -> str:
    client.force_login(user)
    return client.get(INTEGRATIONS).content.decode()


# Email ------------------------------------------------------------------------------------------


def test_the_email_section_names_the_backend_and_the_shops_sender(client, shop, owner):
    Shop.objects.filter(pk=shop.pk).update(
        email_from_name="Acme Tea", email_from_address="hello@acme.test"
    )

    page = _page(client, owner)

    assert "Test (anymail)" in page  # the test settings' anymail test backend
    assert "Configured</span>" in page
    assert "Acme Tea &lt;hello@acme.test&gt;" in page
    assert "Send a test email" in page


def test_the_console_backend_is_shown_as_delivering_nothing(client, shop, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    page = _page(client, owner)

    assert "Not delivering</span>" in page
    assert "the console (printed, not delivered)" in page


def test_an_esp_without_its_api_key_is_not_delivering_and_says_why(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {}

    provider = email_provider_configured()

    assert not provider.is_delivering
    assert "POSTMARK_SERVER_TOKEN" in provider.problem


def test_an_smtp_server_is_named_by_host_and_port(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "mail.acme.test", 587

    provider = email_provider_configured()

    assert provider.is_delivering
    assert provider.label == "SMTP server mail.acme.test:587"


def test_the_last_email_sent_and_provider_event_of_the_shop_are_shown(client, shop, owner):
    order = OrderFactory(shop=shop)
    message = queued(order)
    message.sent_at = message.created_at
    message.save(update_fields=["sent_at"])
    ProviderEvent.objects.create(
        provider="postmark", event_key="pm-1", message=message, kind="delivered"
    )

    page = _page(client, owner)

    assert "(postmark delivered)" in page
    assert "Last email sent</dt><dd><time" in page


def test_the_test_email_goes_through_the_backend_to_the_signed_in_owner(client, shop, owner):
    Shop.objects.filter(pk=shop.pk).update(
        email_from_name="Acme Tea", email_from_address="hello@acme.test"
    )
    client.force_login(owner)

    response = client.post(reverse("messaging:integration_email_test"), follow=True)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["owner@acme.test"]
    assert sent.from_email == "Acme Tea <hello@acme.test>"
    assert sent.subject == f"Test email from {shop.name}"
    page = response.content.decode()
    assert "The test email went to owner@acme.test." in page
    change = SettingsChange.objects.get()
    assert (change.area, change.action, change.subject) == (
        "integrations",
        "email.test_sent",
        "owner@acme.test",
    )
    assert change.changes["result"][1].startswith("sent: ")
    assert "email.test_sent · owner@acme.test" in page


def test_a_refused_test_email_shows_the_servers_words_and_is_recorded(
    client, shop, owner, smtp_server
):
    smtp_server.reply("owner@acme.test", "550 5.1.1 No such user here")
    client.force_login(owner)

    response = client.post(reverse("messaging:integration_email_test"), follow=True)

    page = response.content.decode()
    assert "The test email to owner@acme.test failed:" in page
    assert "550 5.1.1 No such user here" in page
    assert smtp_server.received == []
    result = SettingsChange.objects.get().changes["result"][1]
    assert result.startswith("failed: ")
    assert "550 5.1.1" in result


def test_a_manager_may_not_send_a_test_email(shop):
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user

    with pytest.raises(StaffPermissionDenied):
        email_test_send(shop_id=shop.pk, actor=manager, recipient="m@acme.test")

    assert mail.outbox == []
    assert not SettingsChange.objects.exists()


# Twilio -----------------------------------------------------------------------------------------


def test_without_a_twilio_account_the_section_says_so_and_offers_no_test(
    client, shop, owner, settings
):
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""

    page = _page(client, owner)

    assert "Not configured</span>" in page
    assert "Send a test text" not in page
    with pytest.raises(ProviderTestRefused):
        text_test_send(shop_id=shop.pk, actor=owner, phone="+14155550123")


def test_a_configured_twilio_shows_the_sid_masked_never_the_token(client, shop, owner, fake_twilio):
    page = _page(client, owner)

    assert "Configured</span>" in page
    assert f"AC…{ACCOUNT_SID[-4:]}" in page
    assert ACCOUNT_SID not in page
    assert AUTH_TOKEN not in page
    assert f"{FROM_NUMBER} (the platform&#x27;s number)" in page
    assert "Send a test text" in page


def test_the_shops_own_number_is_the_sender_shown(client, shop, owner, fake_twilio):
    Shop.objects.filter(pk=shop.pk).update(sms_number="+14155550000")

    page = _page(client, owner)

    assert "+14155550000 (the shop&#x27;s own number)" in page


def test_the_last_status_callback_of_the_shops_texts_is_shown(
    client, shop, owner, fake_twilio, daytime
):
    message = queued_text(OrderFactory(shop=shop), "sms")
    ProviderEvent.objects.create(
        provider="twilio",
        event_key="SM1:delivered",
        message=message,
        kind="status",
        payload={"MessageSid": "SM1", "MessageStatus": "delivered"},
    )

    page = _page(client, owner)

    assert "(twilio delivered)" in page


def test_the_test_text_reaches_twilio_from_the_shops_number_in_its_region(
    client, shop, owner, fake_twilio
):
    # The shop's own number says it is in the US: a number typed without +1 is read there.
    Shop.objects.filter(pk=shop.pk).update(sms_number="+14155550000")
    twilio_accepts(fake_twilio)
    client.force_login(owner)

    response = client.post(
        reverse("messaging:integration_text_test"), {"phone": "(415) 555-0123"}, follow=True
    )

    form = twilio_form(fake_twilio)
    assert form["To"] == "+14155550123"
    assert form["From"] == "+14155550000"
    assert form["Body"].startswith(f"Test text from {shop.name}")
    assert "The test text went to +14155550123." in response.content.decode()
    change = SettingsChange.objects.get()
    assert (change.action, change.subject) == ("sms.test_sent", "+14155550123")
    assert change.changes["result"][1] == "sent: SM" + "a" * 32


def test_twilios_refusal_of_a_test_text_is_shown_in_its_words(client, shop, owner, fake_twilio):
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 21211, "message": "The 'To' number +14155550199 is not a valid phone number."},
        status=400,
    )
    client.force_login(owner)

    response = client.post(
        reverse("messaging:integration_text_test"), {"phone": "+1 415 555 0199"}, follow=True
    )

    page = response.content.decode()
    assert "The test text to +14155550199 failed:" in page
    assert "is not a valid phone number." in page
    assert SettingsChange.objects.get().changes["result"][1].startswith("failed: ")


def test_a_number_that_is_no_phone_number_is_refused_before_twilio_is_called(
    client, shop, owner, fake_twilio
):
    client.force_login(owner)

    response = client.post(reverse("messaging:integration_text_test"), {"phone": "12"}, follow=True)

    assert "is not a phone number" in response.content.decode()
    assert fake_twilio.log == []
    assert not SettingsChange.objects.exists()


def test_a_manager_may_not_send_a_test_text(client, shop, fake_twilio):
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user
    client.force_login(manager)

    response = client.post(reverse("messaging:integration_text_test"), {"phone": "+14155550123"})

    assert response.status_code == 403
    assert fake_twilio.log == []


def test_an_esp_that_cannot_start_makes_the_test_email_fail_plainly(client, shop, owner, settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {}
    client.force_login(owner)

    response = client.post(reverse("messaging:integration_email_test"), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "The test email to owner@acme.test failed:" in page
    assert "POSTMARK_SERVER_TOKEN" in page
    assert SettingsChange.objects.get().changes["result"][1].startswith("failed: ")
