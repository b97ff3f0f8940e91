"""The shop's sender identity: set in the settings area, validated, used by every email."""

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from notifications.services import message_send
from orders.models import SettingsChange, Shop, StaffRole
from orders.shop_settings.sender import (
    SenderIdentity,
    SenderIdentityInvalid,
    sender_identity_update,
)
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import StaffMembershipFactory
from tests.notifications.test_compliance import NOON_UTC, order_for, queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


@time_machine.travel(NOON_UTC, tick=False)
def test_emails_go_out_from_the_shops_sender_identity():
    order = order_for()
    sender_identity_update(
        shop_id=order.shop_id,
        actor=None,
        identity=SenderIdentity(
            from_name="Acme Tea", from_address="hello@acme.test", reply_to="care@acme.test"
        ),
    )

    message_send(message_id=queued(order).pk)

    sent = mail.outbox[-1]
    assert sent.from_email == "Acme Tea <hello@acme.test>"
    assert sent.reply_to == ["care@acme.test"]


@time_machine.travel(NOON_UTC, tick=False)
def test_without_an_identity_emails_come_from_the_platform_in_the_shops_name(settings):
    order = order_for()
    Shop.objects.filter(pk=order.shop_id).update(support_email="help@shop.test")

    message_send(message_id=queued(order).pk)

    sent = mail.outbox[-1]
    assert sent.from_email == f"{order.shop.name} <{settings.DEFAULT_FROM_EMAIL}>"
    assert sent.reply_to == ["help@shop.test"]


@pytest.mark.parametrize(
    ("identity", "field"),
    [
        (SenderIdentity(from_name="Acme\r\nBcc: all@example.org"), "from_name"),
        (SenderIdentity(from_address="not an address"), "from_address"),
        (SenderIdentity(reply_to="care@"), "reply_to"),
    ],
)
def test_an_invalid_identity_is_refused_and_changes_nothing(shop, owner, identity, field):
    with pytest.raises(SenderIdentityInvalid) as refused:
        sender_identity_update(shop_id=shop.pk, actor=owner, identity=identity)

    assert refused.value.field == field
    shop.refresh_from_db()
    assert (shop.email_from_name, shop.email_from_address, shop.email_reply_to) == ("", "", "")
    assert not SettingsChange.objects.exists()


def test_a_manager_may_not_change_the_sender(shop):
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user

    with pytest.raises(StaffPermissionDenied):
        sender_identity_update(
            shop_id=shop.pk, actor=manager, identity=SenderIdentity(from_name="Mine")
        )


def test_the_sender_page_saves_and_records_the_change(client, shop, owner):
    client.force_login(owner)

    response = client.post(
        reverse("shop_settings:sender"),
        {"from_name": "Acme Tea", "from_address": "Hello@Acme.test", "reply_to": ""},
        follow=True,
    )

    page = response.content.decode()
    assert "Acme Tea &lt;hello@acme.test&gt;" in page
    assert "from_address: — → hello@acme.test" in page
    change = SettingsChange.objects.get()
    assert change.changes == {
        "from_name": ["", "Acme Tea"],
        "from_address": ["", "hello@acme.test"],
    }


def test_the_sender_page_shows_a_bad_address_on_its_field(client, shop, owner):
    client.force_login(owner)

    response = client.post(
        reverse("shop_settings:sender"),
        {"from_name": "Acme", "from_address": "nope", "reply_to": ""},
    )

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    shop.refresh_from_db()
    assert shop.email_from_name == ""
