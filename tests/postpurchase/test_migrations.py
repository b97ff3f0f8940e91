"""The domain-event outbox moved from `orders` to the kernel: a database migrated from before
the move keeps every event as it was (delivery records, attempts, errors), its ids keep counting
on, and ops keep their permission on events."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

ORDERS_BEFORE_THE_MOVE = ("orders", "0009_payment_states_shop_sms_number")
BEFORE_THE_MOVE = [ORDERS_BEFORE_THE_MOVE, ("postpurchase", None)]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    # Later calls must see what was applied: a fresh executor reads it again.
    return MigrationExecutor(connection)


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_events_published_before_the_move_survive_it():
    executor = _migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(ORDERS_BEFORE_THE_MOVE).apps
    assert "orders_domainevent" in _tables()
    assert "postpurchase_domainevent" not in _tables()
    shop = old.get_model("orders", "Shop").objects.create(name="Before", slug="before")
    owed = old.get_model("orders", "DomainEvent").objects.create(
        shop=shop,
        name="return_approved",
        payload={"return_id": 7, "order_id": 3},
        delivered_to=["notifications.return_approved"],
        attempts=3,
        last_error="tests.flaky: ConnectionError()",
    )
    Permission = old.get_model("auth", "Permission")
    may_redeliver = Permission.objects.get(
        content_type__app_label="orders", codename="change_domainevent"
    )
    ops = get_user_model().objects.create_user("ops-before-the-move")
    ops.user_permissions.add(may_redeliver.pk)

    executor = _migrate(executor.loader.graph.leaf_nodes())

    from postpurchase.models import DomainEvent

    assert "orders_domainevent" not in _tables()
    moved = DomainEvent.objects.get(pk=owed.pk)
    assert (moved.shop_id, moved.name, moved.payload) == (
        shop.pk,
        "return_approved",
        {"return_id": 7, "order_id": 3},
    )
    assert moved.delivered_to == ["notifications.return_approved"]
    assert (moved.is_fully_delivered, moved.attempts) == (False, 3)
    assert moved.last_error == "tests.flaky: ConnectionError()"
    assert moved.occurred_at == owed.occurred_at
    later = DomainEvent.objects.create(shop_id=shop.pk, name="order_placed")
    assert later.pk > owed.pk
    assert get_user_model().objects.get(pk=ops.pk).has_perm("postpurchase.change_domainevent")
