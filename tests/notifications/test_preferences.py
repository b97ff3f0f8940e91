"""The preferences page and one-click unsubscribe: changed only by a deliberate POST, recorded as
consent with where it came from, and reached only through a valid link."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.checks import public_base_url_is_https
from notifications.engine.links import email_headers, preferences_token, preferences_url
from notifications.engine.preferences import preferences_options, preferences_update
from notifications.models import MessageStatus, Purpose
from notifications.services import message_render, message_send
from orders.models import Channel, Consent, ConsentStatus
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory, ShopFactory
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def customer():
    shop = ShopFactory(
        name="Tea & Co", primary_colour="#0f766e", logo_url="https://cdn.teaco.test/logo.png"
    )
    return CustomerFactory(shop=shop, email="ada@example.org", phone="+14155550100")


def page_url(customer) -> str:
    return reverse("preferences", args=[preferences_token(customer.pk)])


def consents(customer) -> dict[tuple[str, str], str]:
    return {(c.channel, c.purpose): c.status for c in Consent.objects.filter(customer=customer)}


def grant(customer, channel: str, purpose: str = Purpose.MARKETING) -> Consent:
    return ConsentFactory(customer=customer, channel=channel, purpose=purpose)


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def form_post(client: Client, url: str, data: dict[str, str]):
    """Submit the page's form as a browser would: GET it (sets the CSRF cookie), then POST."""
    client.get(url)
    token = client.cookies["csrftoken"].value
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_shops_branding_and_each_reachable_switch(client, customer):
    grant(customer, Channel.EMAIL)

    response = client.get(page_url(customer))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Tea &amp; Co" in html
    assert 'src="https://cdn.teaco.test/logo.png"' in html
    assert brand_css(client, html) == ":root { --brand: #0f766e; --on-brand: #ffffff; }\n"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for name in (
        "sms_transactional",
        "whatsapp_transactional",
        "email_marketing",
        "sms_marketing",
        "whatsapp_marketing",
    ):
        assert f'name="{name}"' in html
        assert f'<label for="id_{name}">' in html
    assert 'name="email_marketing" id="id_email_marketing" checked' in html
    assert 'name="sms_marketing" id="id_sms_marketing">' in html
    assert "cannot be turned off here" in html
    assert 'value="unsubscribe_all"' in html
    assert "a•••@example.org" in html
    assert "ada@example.org" not in html
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in html
    assert "no-store" in response.headers["Cache-Control"]


def brand_css(client, html: str) -> str:
    """The shop's colours, from the stylesheet the page links (it carries no style attribute)."""
    (href,) = re.findall(r'<link rel="stylesheet" href="(/track/brand/[0-9a-f]{6}\.css)">', html)
    response = client.get(href)
    assert response["Content-Type"] == "text/css; charset=utf-8"
    return response.content.decode()


def test_text_switches_appear_only_for_a_customer_with_a_phone(client):
    customer = CustomerFactory(phone="")

    html = client.get(page_url(customer)).content.decode()

    assert 'name="email_marketing"' in html
    assert "sms_" not in html
    assert "whatsapp_" not in html


def test_a_light_brand_colour_gets_dark_text(client, customer):
    customer.shop.primary_colour = "#fde68a"
    customer.shop.save(update_fields=["primary_colour"])

    html = client.get(page_url(customer)).content.decode()

    assert "--brand: #fde68a; --on-brand: #111827;" in brand_css(client, html)


def test_a_colour_that_is_not_a_hex_code_never_reaches_the_stylesheet(client, customer):
    # The field holds 7 characters; the validator is skipped by a queryset update.
    type(customer.shop).objects.filter(pk=customer.shop_id).update(primary_colour="red;a:b")

    html = client.get(page_url(customer)).content.decode()

    assert "red;a:b" not in html
    assert "--brand: #1a56db;" in brand_css(client, html)


@pytest.mark.parametrize(
    "token",
    ["nonsense", "MTIz:1tZ9bX:tampered-signature-0000000000000000000000"],
)
def test_a_bad_token_is_404_and_changes_nothing(client, customer, token):
    url = reverse("preferences", args=[token])

    assert client.get(url).status_code == 404
    assert client.post(url, ONE_CLICK).status_code == 404
    assert consents(customer) == {}


def test_a_token_altered_to_name_another_customer_is_404(client, customer):
    other = CustomerFactory(shop=customer.shop)
    grant(other, Channel.EMAIL)
    token = preferences_token(customer.pk)
    forged = preferences_token(other.pk).split(":", 1)[0] + ":" + token.split(":", 1)[1]

    response = client.post(reverse("preferences", args=[forged]), ONE_CLICK)

    assert response.status_code == 404
    assert consents(other) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


def test_an_erased_customer_is_404(client, customer):
    grant(customer, Channel.EMAIL)
    customer.redacted_at = timezone.now()
    customer.save(update_fields=["redacted_at"])

    assert client.get(page_url(customer)).status_code == 404
    assert client.post(page_url(customer), ONE_CLICK).status_code == 404
    assert consents(customer) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


def test_a_get_never_changes_anything_whatever_its_query(client, customer):
    grant(customer, Channel.EMAIL)

    client.get(page_url(customer), {"List-Unsubscribe": "One-Click", "action": "unsubscribe_all"})

    assert consents(customer) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


# --- the form ---------------------------------------------------------------------------------


def test_saving_the_form_records_each_change_then_redirects_with_a_confirmation(customer):
    grant(customer, Channel.EMAIL)
    client = csrf_client()
    url = page_url(customer)

    response = form_post(
        client, url, {"action": "save", "sms_transactional": "on", "whatsapp_marketing": "on"}
    )

    assert response.status_code == 302
    assert response.url == url
    assert consents(customer) == {
        (Channel.SMS, Purpose.TRANSACTIONAL): ConsentStatus.GRANTED,
        (Channel.EMAIL, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.WHATSAPP, Purpose.MARKETING): ConsentStatus.GRANTED,
    }
    revoked = Consent.objects.get(customer=customer, channel=Channel.EMAIL)
    assert revoked.source == "preferences page"
    assert revoked.detail == "changed on the preferences page"
    page = client.get(url).content.decode()
    assert "Your choices are saved." in page
    assert 'name="sms_transactional" id="id_sms_transactional" checked' in page


def test_saving_the_page_as_shown_records_nothing(customer):
    grant(customer, Channel.EMAIL)
    before = Consent.objects.get(customer=customer).changed_at

    form_post(csrf_client(), page_url(customer), {"action": "save", "email_marketing": "on"})

    assert Consent.objects.get(customer=customer).changed_at == before
    assert Consent.objects.count() == 1


def test_unsubscribe_from_all_marketing_button_revokes_every_channel_and_keeps_order_updates(
    customer,
):
    grant(customer, Channel.EMAIL)
    grant(customer, Channel.SMS)
    grant(customer, Channel.SMS, Purpose.TRANSACTIONAL)
    client = csrf_client()

    response = form_post(client, page_url(customer), {"action": "unsubscribe_all"})

    assert response.status_code == 302
    assert consents(customer) == {
        (Channel.EMAIL, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.SMS, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.WHATSAPP, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.SMS, Purpose.TRANSACTIONAL): ConsentStatus.GRANTED,
    }
    assert "unsubscribed from all news and offers" in client.get(response.url).content.decode()


def test_the_form_without_a_csrf_token_is_refused_and_changes_nothing(customer):
    grant(customer, Channel.EMAIL)
    client = csrf_client()

    response = client.post(page_url(customer), {"action": "unsubscribe_all"})

    assert response.status_code == 403
    assert consents(customer) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


def test_a_form_without_a_known_action_is_400_with_the_error_and_changes_nothing(customer):
    grant(customer, Channel.EMAIL)

    response = form_post(csrf_client(), page_url(customer), {"action": "delete_everything"})

    assert response.status_code == 400
    assert "Your choices were not saved." in response.content.decode()
    assert consents(customer) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


def test_a_switch_the_page_does_not_offer_is_ignored():
    customer = CustomerFactory(phone="")

    changed = preferences_update(
        customer=customer, choices={"email_marketing": True, "sms_marketing": True}
    )

    assert changed == 1
    assert consents(customer) == {(Channel.EMAIL, Purpose.MARKETING): ConsentStatus.GRANTED}


def test_options_read_consent_per_purpose(customer):
    grant(customer, Channel.SMS, Purpose.TRANSACTIONAL)

    options = {option.key: option.is_granted for option in preferences_options(customer=customer)}

    assert options == {
        "sms_transactional": True,
        "whatsapp_transactional": False,
        "email_marketing": False,
        "sms_marketing": False,
        "whatsapp_marketing": False,
    }


# --- one-click (RFC 8058) ---------------------------------------------------------------------


def test_one_click_post_needs_no_cookie_or_csrf_token_and_revokes_all_marketing(customer):
    grant(customer, Channel.EMAIL)
    grant(customer, Channel.WHATSAPP, Purpose.TRANSACTIONAL)

    response = csrf_client().post(page_url(customer), ONE_CLICK)

    assert response.status_code == 200
    assert consents(customer) == {
        (Channel.EMAIL, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.SMS, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.WHATSAPP, Purpose.MARKETING): ConsentStatus.REVOKED,
        (Channel.WHATSAPP, Purpose.TRANSACTIONAL): ConsentStatus.GRANTED,
    }
    email = Consent.objects.get(customer=customer, channel=Channel.EMAIL)
    assert email.source == "preferences page"
    assert "RFC 8058" in email.detail


def test_one_click_sent_as_multipart_by_a_mailbox_provider_works_too(customer):
    grant(customer, Channel.EMAIL)

    # Django's test client posts multipart/form-data by default, as Gmail does.
    response = Client(enforce_csrf_checks=True).post(page_url(customer), data=ONE_CLICK)
    urlencoded = Client(enforce_csrf_checks=True).post(
        page_url(customer),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == urlencoded.status_code == 200
    assert consents(customer)[(Channel.EMAIL, Purpose.MARKETING)] == ConsentStatus.REVOKED


def test_one_click_twice_keeps_the_first_record(customer, django_assert_max_num_queries):
    grant(customer, Channel.EMAIL)
    client = csrf_client()
    client.post(page_url(customer), ONE_CLICK)
    first = dict(Consent.objects.filter(customer=customer).values_list("pk", "changed_at"))

    with django_assert_max_num_queries(6):  # a quick answer: a lock and a read, no writes
        assert client.post(page_url(customer), ONE_CLICK).status_code == 200

    assert dict(Consent.objects.filter(customer=customer).values_list("pk", "changed_at")) == first


# --- List-Unsubscribe through the real send path -----------------------------------------------


def test_marketing_email_carries_list_unsubscribe_that_one_click_revokes(client, daytime):
    order = OrderFactory()
    grant(order.customer, Channel.EMAIL)
    message = queued(order, purpose=Purpose.MARKETING, kind="order_confirmation")

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    assert len(mail.outbox) == 1
    headers = mail.outbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert url.startswith("https://shop.test/preferences/")
    assert url == preferences_url(order.customer_id)
    assert client.get(url.removeprefix("https://shop.test")).status_code == 200

    response = Client(enforce_csrf_checks=True).post(
        url.removeprefix("https://shop.test"), ONE_CLICK
    )

    assert response.status_code == 200
    assert consents(order.customer)[(Channel.EMAIL, Purpose.MARKETING)] == ConsentStatus.REVOKED
    again = queued(order, purpose=Purpose.MARKETING, kind="shipment_shipped")
    message_send(message_id=again.pk)
    again.refresh_from_db()
    assert again.status == MessageStatus.SUPPRESSED
    assert len(mail.outbox) == 1


def test_transactional_email_has_no_list_unsubscribe():
    order = OrderFactory()
    message = queued(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    headers = mail.outbox[0].extra_headers
    assert "List-Unsubscribe" not in headers
    assert "List-Unsubscribe-Post" not in headers
    message.refresh_from_db()
    assert email_headers(message) == {}


# --- the email layout's footer ----------------------------------------------------------------


def test_the_email_layout_links_to_the_preferences_page_when_given_its_url():
    order = OrderFactory()
    context = queued(order).context
    url = preferences_url(order.customer_id)

    with_link = message_render(
        kind="order_confirmation", channel="email", context={**context, "preferences_url": url}
    )
    without = message_render(kind="order_confirmation", channel="email", context=context)

    assert f'<a href="{url}"' in with_link.body_html
    assert "Choose which messages you get, or unsubscribe" in with_link.body_html
    assert "/preferences/" not in without.body_html


def test_the_deploy_check_asks_for_an_https_public_address(settings):
    settings.PUBLIC_BASE_URL = "http://engage.example.com"
    assert [warning.id for warning in public_base_url_is_https()] == ["notifications.W001"]

    settings.PUBLIC_BASE_URL = "https://engage.example.com"
    assert public_base_url_is_https() == []

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"  # `make run` on a laptop
    assert public_base_url_is_https() == []


def test_the_page_shows_no_developer_notes(client, customer):
    html = client.get(page_url(customer)).content.decode()

    assert "Origin: null" not in html
    assert "{#" not in html
