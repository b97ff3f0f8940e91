"""A service locks the row it changes before it looks at its state, so a stale copy in a
caller's hands (read before someone else moved the row) can never decide a move; and no view,
form or selector takes a lock: the service that changes the row does."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from orders.services import (
    order_cancel,
    order_mark_paid,
    order_update,
    shipment_transition,
    tracking_event_record,
)
from orders.services.data import TrackingEventData
from postpurchase.exceptions import IllegalTransition
from postpurchase.models import DomainEvent
from returns.services import Inspection, return_request_inspect, return_request_receive
from tests.factories import OrderFactory, ShipmentFactory
from tests.returns.test_services import choice, delivered_order, file, line

APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")


def _is_view_module(path: Path) -> bool:
    return path.stem == "views" or path.stem.startswith("views_") or path.stem.endswith("_views")


def _is_surface(path: Path) -> bool:
    """Views, forms, selectors and admin: code that reads for a page or parses a request. Every
    module of the packages that serve pages or the API counts, whatever it is called."""
    return (
        bool({"dashboard", "portal", "api", "tracking", "pages"} & set(path.parts))
        or _is_view_module(path)
        or path.name.endswith(("forms.py", "selectors.py", "admin.py", "lookup.py"))
    )


def _app_modules(wanted) -> list[tuple[Path, ast.Module]]:
    root = Path(settings.BASE_DIR)
    return [
        (path.relative_to(root), ast.parse(path.read_text()))
        for app in APPS
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.parts and wanted(path.relative_to(root))
    ]


def _named(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == name) or (
        isinstance(node, ast.Name) and node.id == name
    )


def test_no_view_form_or_selector_takes_a_lock():
    locks = [
        f"{path}:{node.lineno}"
        for path, tree in _app_modules(_is_surface)
        for node in ast.walk(tree)
        if _named(node, "select_for_update") or _named(node, "row_lock")
    ]
    assert locks == [], "lock the row in the service that changes it"


def test_no_view_opens_a_transaction():
    """A view calls one service, which is its own transaction: a transaction opened around it
    would keep the service's locks (and any provider call it makes) inside the view's."""
    opened = [
        f"{path}:{node.lineno}"
        for path, tree in _app_modules(_is_view_module)
        for node in ast.walk(tree)
        if _named(node, "atomic")
    ]
    assert opened == [], "let the service open its transaction"


def test_the_scans_find_the_surfaces():
    found = {str(path) for path, _tree in _app_modules(_is_surface)}

    assert {
        "orders/tracking/views.py",
        "orders/api/views.py",
        "returns/dashboard/views.py",
        "returns/portal/views.py",
        "notifications/dashboard/template_views.py",
        "orders/ingest/shopify_views.py",
    } <= found
    assert "orders/services/page_view_counts.py" not in found


def _moved_by_someone_else(obj, **values):
    """Change the row behind the caller's back: `obj` is now a stale copy."""
    type(obj).objects.filter(pk=obj.pk).update(**values)
    return obj


@pytest.mark.django_db
def test_a_stale_copy_of_a_shipped_order_cannot_cancel_it():
    order = OrderFactory(status=OrderStatus.PLACED)
    stale = _moved_by_someone_else(order, status=OrderStatus.SHIPPED)

    with pytest.raises(IllegalTransition):
        order_cancel(order=stale, reason="changed my mind")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert not DomainEvent.objects.filter(name=OrderEventName.ORDER_CANCELLED).exists()


@pytest.mark.django_db
def test_a_stale_copy_of_a_paid_order_does_not_record_the_payment_again():
    order = OrderFactory()
    stale = _moved_by_someone_else(order, paid_at=timezone.now() - timedelta(hours=1))

    assert order_mark_paid(order=stale) is False

    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAID).exists()
    assert not DomainEvent.objects.filter(name=OrderEventName.ORDER_PAID).exists()


@pytest.mark.django_db
def test_a_stale_copy_of_a_delivered_shipment_is_not_moved_back_by_a_scan():
    shipment = ShipmentFactory(status=ShipmentStatus.IN_TRANSIT)
    stale = _moved_by_someone_else(
        shipment, status=ShipmentStatus.DELIVERED, last_event_at=timezone.now() - timedelta(hours=2)
    )

    _, created = tracking_event_record(
        shipment=stale,
        data=TrackingEventData(
            status=ShipmentStatus.OUT_FOR_DELIVERY,
            occurred_at=timezone.now() - timedelta(hours=1),
            description="Out for delivery",
            source="carrier",
        ),
    )

    assert created  # kept in the history, but it moves nothing
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED
    assert stale.status == ShipmentStatus.DELIVERED  # the caller's copy is current now


@pytest.mark.django_db
def test_a_stale_copy_of_a_delivered_shipment_cannot_be_moved():
    shipment = ShipmentFactory(status=ShipmentStatus.IN_TRANSIT)
    stale = _moved_by_someone_else(shipment, status=ShipmentStatus.DELIVERED)

    with pytest.raises(IllegalTransition):
        shipment_transition(shipment=stale, to=ShipmentStatus.EXCEPTION)

    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED


@pytest.mark.django_db
def test_an_update_is_worked_out_from_the_order_as_stored_under_its_lock():
    order = OrderFactory(email="old@example.org")
    stale = _moved_by_someone_else(order, email="new@example.org")
    seen: list[str] = []

    def changes(locked: Order):
        seen.append(locked.email)
        raise RuntimeError("enough")

    with CaptureQueriesContext(connection) as queries, pytest.raises(RuntimeError):
        order_update(order=stale, changes=changes)

    assert seen == ["new@example.org"]
    (read,) = [q["sql"] for q in queries.captured_queries if 'FROM "orders_order"' in q["sql"]]
    assert read.endswith("FOR UPDATE")


@pytest.mark.django_db
def test_an_inspection_locks_the_return_before_it_writes_its_items(shop, staff):
    order = delivered_order(shop)
    request = file(order, choice(line(order)))
    request.status = "approved"
    request.save(update_fields=["status"])
    request = return_request_receive(return_request=request, actor=staff)

    with CaptureQueriesContext(connection) as queries:
        return_request_inspect(
            return_request=request,
            actor=staff,
            inspections={item.pk: Inspection("resellable") for item in request.items.all()},
        )

    sql = [query["sql"] for query in queries.captured_queries]
    lock = next(
        i
        for i, s in enumerate(sql)
        if s.startswith("SELECT") and 'FROM "returns_returnrequest"' in s and "FOR UPDATE" in s
    )
    write = next(i for i, s in enumerate(sql) if s.startswith('UPDATE "returns_returnitem"'))
    assert lock < write
