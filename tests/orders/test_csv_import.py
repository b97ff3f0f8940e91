import csv
import itertools
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from orders.events import OrderEventName
from orders.ingest.csv_import import csv_rows, order_groups
from orders.models import (
    PAID_FINANCIAL_STATUSES,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from postpurchase.models import DomainEvent
from tests.conftest import event_enqueues
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv"
HEADER = "order_id,order_number,placed_at,currency,email,product_title,quantity,unit_price,total"


def run(path: Path | str, shop, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_orders", str(path), "--shop", shop.slug, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, *lines: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot() -> dict[str, object]:
    """Everything an import writes, to show that a second run writes nothing."""
    return {
        "orders": list(Order.objects.order_by("pk").values_list("pk", "updated_at")),
        "lines": list(LineItem.objects.order_by("pk").values_list("pk", "updated_at")),
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "updated_at")),
        "shipments": list(Shipment.objects.order_by("pk").values_list("pk", "updated_at")),
        "scans": TrackingEvent.objects.count(),
        "order_events": OrderEvent.objects.count(),
    }


# A good file


def test_good_file_imports_every_order(shop):
    out, err = run(FIXTURES / "orders_good.csv", shop)

    assert "Orders: 4 created, 0 updated, 0 unchanged, 0 failed. Rows read: 7." in out
    assert "row " not in err
    assert set(Order.objects.values_list("external_id", flat=True)) == {
        "5001",
        "5002",
        "5003",
        "5004",
    }
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.IMPORT}


def test_order_values_come_from_its_rows(shop):
    run(FIXTURES / "orders_good.csv", shop)

    order = Order.objects.get(shop=shop, external_id="5001")
    assert order.number == "#1001"
    assert order.placed_at == datetime(2024, 3, 1, 10, 15, tzinfo=UTC)
    assert (order.currency, order.total, order.shipping_total) == ("USD", Decimal("34.00"), 5)
    assert order.subtotal == Decimal("29.00")  # 2 x 12.50 - 1.00 + 5.00
    assert order.financial_status == FinancialStatus.PAID
    assert (order.shipping_postcode, order.shipping_country) == ("10001", "US")
    assert order.customer.email == "ada@example.org"
    assert order.customer.full_name == "Ada Lovelace"
    lines = {li.external_id: li for li in order.line_items.all()}
    assert set(lines) == {"L1", "L2"}
    assert (lines["L1"].sku, lines["L1"].quantity, lines["L1"].discount_total) == (
        "TEA-01",
        2,
        Decimal("1.00"),
    )


@pytest.mark.parametrize("status", FinancialStatus.values)
def test_the_payment_state_is_kept_as_given(tmp_path, shop, status):
    path = write(
        tmp_path,
        f"{HEADER},financial_status",
        f"9001,#9001,2024-03-01T10:15:00Z,USD,ada@example.org,Tea,1,5.00,5.00,{status.upper()}",
    )

    run(path, shop)

    order = Order.objects.get(external_id="9001")
    assert order.financial_status == status
    assert (order.paid_at is not None) == (status in PAID_FINANCIAL_STATUSES)


def test_a_date_without_time_is_midnight_in_the_shops_zone(shop):
    run(FIXTURES / "orders_good.csv", shop)

    order = Order.objects.get(shop=shop, external_id="5002")
    # The shop is in New York: midnight there on 2 March is 05:00 UTC.
    assert order.placed_at == datetime(2024, 3, 2, 5, 0, tzinfo=UTC)
    assert order.phone == "+442079460958"
    assert order.customer.phone == "+442079460958"


def test_lines_without_line_item_id_are_numbered_by_position(shop):
    run(FIXTURES / "orders_good.csv", shop)

    order = Order.objects.get(shop=shop, external_id="5003")
    lines = dict(order.line_items.values_list("external_id", "sku"))
    assert lines == {"1": "SOCK-03", "2": "SOCK-04"}
    assert order.line_items.get(external_id="2").title == "SOCK-04"


def test_sku_links_the_line_to_the_shops_variant(shop):
    variant = VariantFactory(product__shop=shop, sku="TEA-01")

    run(FIXTURES / "orders_good.csv", shop)

    line = LineItem.objects.get(order__external_id="5001", external_id="L1")
    assert line.variant == variant
    assert line.product == variant.product


def test_rows_with_a_tracking_number_become_a_delivered_shipment(shop):
    run(FIXTURES / "orders_good.csv", shop)

    order = Order.objects.get(shop=shop, external_id="5001")
    shipment = order.shipments.get()
    assert (shipment.carrier, shipment.tracking_number) == ("USPS", "9400111899560000000001")
    assert shipment.shipped_at == datetime(2024, 3, 2, 9, 0, tzinfo=UTC)
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.delivered_at == datetime(2024, 3, 5, 16, 30, tzinfo=UTC)
    assert sorted(shipment.items.values_list("line_item__external_id", "quantity")) == [
        ("L1", 2),
        ("L2", 1),
    ]
    assert order.status == OrderStatus.DELIVERED


def test_order_with_an_unshipped_line_is_not_delivered(shop):
    run(FIXTURES / "orders_good.csv", shop)

    order = Order.objects.get(shop=shop, external_id="5004")
    assert order.shipments.get().status == ShipmentStatus.DELIVERED
    assert order.status == OrderStatus.SHIPPED


def test_no_domain_event_is_published_for_imported_orders(
    shop, subscribed, django_capture_on_commit_callbacks
):
    subscribed(*OrderEventName.values)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(FIXTURES / "orders_good.csv", shop)

    assert Order.objects.filter(status=OrderStatus.DELIVERED).exists()
    assert not DomainEvent.objects.exists()
    assert event_enqueues(callbacks) == []


def test_progress_bar_is_drawn_on_stderr(shop):
    _, err = run(FIXTURES / "orders_good.csv", shop)

    assert "Importing" in err
    assert "100%" in err


# Bad rows


def test_bad_rows_are_reported_with_row_and_field(shop):
    _, err = run(FIXTURES / "orders_bad.csv", shop)

    assert "row 4, field quantity: 'two' is not a whole number" in err
    assert "row 6, field currency: 'EUR' differs from 'USD' at row 5 of the same order" in err
    assert "row 7, field placed_at: '04/04/2024' is not an ISO 8601 date or date-time" in err
    assert "row 8, field email: email or phone is required" in err
    assert "row 11, field order_id: rows of order 6006 must be contiguous" in err
    assert "row 12, field placed_at: '2024-04-08T10:00:00' has no UTC offset" in err
    assert "row 12, field unit_price: '1.5x' is not a number" in err
    assert "row 13, field cancelled_at: a cancelled order cannot have shipped" in err
    assert "row 14, field currency: 'USDX' is not a three-letter" in err
    assert "row 14, field product_title: sku or product_title is required" in err
    assert "row 14, field tracking_number: is required when" in err


def test_a_bad_row_skips_its_whole_order_and_the_others_import(shop):
    out, _ = run(FIXTURES / "orders_bad.csv", shop)

    assert "Orders: 3 created, 0 updated, 0 unchanged, 8 failed. Rows read: 13." in out
    assert set(Order.objects.values_list("external_id", flat=True)) == {"6001", "6006", "6007"}
    # Order 6002's first row was fine; nothing of the order was kept.
    assert not LineItem.objects.filter(order__external_id="6002").exists()
    assert not Customer.objects.filter(email="bad-qty@example.org").exists()
    # The split order kept its first block only.
    assert Order.objects.get(external_id="6006").line_items.count() == 1


def test_errors_file_lists_every_problem(shop, tmp_path):
    report = tmp_path / "errors.csv"

    run(FIXTURES / "orders_bad.csv", shop, "--errors", str(report))

    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["row", "order_id", "field", "reason"]
    assert {(r["row"], r["order_id"], r["field"]) for r in rows} >= {
        ("4", "6002", "quantity"),
        ("6", "6003", "currency"),
        ("11", "6006", "order_id"),
        ("14", "6010", "product_title"),
    }
    assert len(rows) == 11


def test_failure_while_saving_leaves_the_order_as_it_was(shop, tmp_path):
    shipped = write(
        tmp_path,
        f"{HEADER},tracking_number",
        "8001,#4001,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,30.00,TRK1",
        name="shipped.csv",
    )
    run(shipped, shop)
    cancelled = write(
        tmp_path,
        f"{HEADER},cancelled_at",
        "8001,#4001,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,99.00,2024-06-02",
        name="cancelled.csv",
    )

    out, err = run(cancelled, shop)

    assert "1 failed" in out
    assert "row 2, field order_id: Order cannot go from 'shipped' to 'cancelled'" in err
    order = Order.objects.get(external_id="8001")
    assert (order.status, order.total) == (OrderStatus.SHIPPED, Decimal("30.00"))


def test_duplicate_line_item_id_in_one_order_is_refused(shop, tmp_path):
    path = write(
        tmp_path,
        f"{HEADER},line_item_id",
        "8101,#4101,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,60.00,A",
        "8101,#4101,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,60.00,A",
    )

    _, err = run(path, shop)

    assert "row 3, field line_item_id: 'A' is already used at row 2" in err
    assert not Order.objects.exists()


# Re-running


def test_re_running_the_same_file_changes_nothing(shop):
    run(FIXTURES / "orders_good.csv", shop)
    before = snapshot()

    out, _ = run(FIXTURES / "orders_good.csv", shop)

    assert "Orders: 0 created, 0 updated, 4 unchanged, 0 failed. Rows read: 7." in out
    assert snapshot() == before


def test_a_changed_order_is_updated(shop, tmp_path):
    line = "8201,#4201,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,{total}"
    run(write(tmp_path, HEADER, line.format(total="30.00"), name="a.csv"), shop)

    out, _ = run(write(tmp_path, HEADER, line.format(total="32.00"), name="b.csv"), shop)

    assert "0 created, 1 updated, 0 unchanged" in out
    assert Order.objects.get(external_id="8201").total == Decimal("32.00")


def test_a_new_tracking_number_for_a_known_order_is_added(shop, tmp_path):
    line = "8301,#4301,2024-06-01T10:00:00Z,USD,a@example.org,Kettle,1,30.00,30.00,{tracking}"
    run(write(tmp_path, f"{HEADER},tracking_number", line.format(tracking=""), name="a.csv"), shop)

    out, _ = run(
        write(tmp_path, f"{HEADER},tracking_number", line.format(tracking="TRK9"), name="b.csv"),
        shop,
    )

    assert "1 updated" in out
    assert Order.objects.get(external_id="8301").shipments.get().tracking_number == "TRK9"


# The file


def test_file_with_a_byte_order_mark(shop):
    out, _ = run(FIXTURES / "orders_bom.csv", shop)

    assert "1 created" in out
    order = Order.objects.get(external_id="7001")
    assert order.line_items.get().title == "Café crème"


def test_unknown_shop_is_an_error(db):
    with pytest.raises(CommandError, match="No shop with slug 'nope'"):
        call_command("import_orders", str(FIXTURES / "orders_good.csv"), "--shop", "nope")


def test_unreadable_file_is_an_error(shop, tmp_path):
    with pytest.raises(CommandError, match="Cannot open"):
        run(tmp_path / "missing.csv", shop)


def test_missing_required_column_is_an_error(shop, tmp_path):
    path = write(tmp_path, "order_id,order_number,placed_at,currency,email,sku,quantity,total")

    with pytest.raises(CommandError, match=r"missing required column.*unit_price"):
        run(path, shop)


def test_empty_file_is_an_error(shop, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(CommandError, match="empty"):
        run(path, shop)


def test_file_not_in_utf8_is_an_error(shop, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        f"{HEADER}\n9001,#1,2024-06-01,EUR,a@example.org,Caf\xe9,1,1.00,1.00\n".encode("latin-1")
    )

    with pytest.raises(CommandError, match="not UTF-8"):
        run(path, shop)


def test_rows_are_read_as_a_stream():
    consumed = 0

    def lines():
        nonlocal consumed
        yield HEADER + "\n"
        for n in itertools.count():
            consumed += 1
            yield f"{n // 2},#{n},2024-06-01,USD,a@example.org,Tea,1,1.00,1.00\n"

    first_two = list(itertools.islice(order_groups(csv_rows(lines())), 2))

    assert [[row.number for row in group] for group in first_two] == [[2, 3], [4, 5]]
    assert consumed <= 6
