"""`manage.py suppressions_repair`: the addresses an earlier send path suppressed on a temporary
refusal (greylisting) are found, reported per shop, and lifted only with --apply."""

import smtplib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notifications.models import MessageStatus, Suppression, SuppressionReason
from notifications.services import message_send, suppression_add
from tests.factories import OrderFactory, ShopFactory
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db


def refused(shop, address: str, code: int, reply: bytes) -> Suppression:
    """A suppression as the earlier send path wrote it for smtplib's refused recipient."""
    error = smtplib.SMTPRecipientsRefused({address: (code, reply)})
    suppression, _ = suppression_add(
        shop_id=shop.pk,
        channel="email",
        address=address,
        reason=SuppressionReason.INVALID,
        source="email",
        detail=f"recipient_refused: {error}",
    )
    return suppression


@pytest.fixture
def suppressions():
    north, south = ShopFactory(slug="north", name="North"), ShopFactory(slug="south", name="South")
    return {
        "greylisted": refused(north, "ada@example.com", 451, b"4.7.1 Greylisted, try again"),
        "busy": refused(north, "bob@example.com", 450, b"4.2.1 Mailbox busy"),
        "elsewhere": refused(south, "cy@example.com", 451, b"4.7.1 Try again later"),
        "unknown_user": refused(north, "gone@example.com", 550, b"5.1.1 No such user"),
        "hard_bounce": suppression_add(
            shop_id=north.pk,
            channel="email",
            address="bounced@example.com",
            reason=SuppressionReason.HARD_BOUNCE,
            source="postmark",
            detail="postmark: bounced (smtp;550 5.1.1 the account does not exist)",
        )[0],
        "stop": suppression_add(
            shop_id=north.pk, channel="sms", address="+14155550100", reason=SuppressionReason.STOP
        )[0],
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command("suppressions_repair", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_reports_per_shop_and_changes_nothing(suppressions):
    output = run()

    assert "north (North): 2 to lift" in output
    assert "south (South): 1 to lift" in output
    assert "3 suppression(s) created from a temporary refusal. Nothing changed" in output
    assert Suppression.objects.count() == len(suppressions)


def test_apply_lifts_only_the_temporary_refusals(suppressions):
    output = run("--apply")

    assert "north (North): 2 lifted" in output
    assert "Lifted 3 suppression(s)" in output
    kept = set(Suppression.objects.values_list("pk", flat=True))
    assert kept == {suppressions[name].pk for name in ("unknown_user", "hard_bounce", "stop")}
    assert run("--apply").startswith("Lifted 0")  # a second run finds nothing


def test_a_lifted_address_gets_its_order_emails_again(suppressions):
    order = OrderFactory(shop=suppressions["greylisted"].shop, email="ada@example.com")
    before = queued(order)
    assert message_send(message_id=before.pk) == "skipped"  # suppressed at send time

    run("--apply")

    assert message_send(message_id=queued(order, kind="shipment_shipped").pk) == (
        MessageStatus.SENT
    )


def test_one_shop_at_a_time_and_the_addresses_on_request(suppressions):
    output = run("--shop", "south", "--apply", "--verbosity", "2")

    assert "south: cy@example.com (recipient_refused: {'cy@example.com': (451" in output
    assert "north" not in output
    assert Suppression.objects.filter(shop__slug="north").count() == 5


def test_an_unknown_shop_is_an_error_and_changes_nothing(suppressions):
    with pytest.raises(CommandError, match="No shop with slug 'nowhere'"):
        run("--shop", "nowhere", "--apply")

    assert Suppression.objects.count() == len(suppressions)
