"""The returns report on a hand-built data set: return rates by product and variant (units and
value), reasons, exchanges and credit against refunds, time to resolve, the quality-check flag.

The shop, over the last 30 days:

    product       delivered            returned (not rejected/cancelled)
    Linen shirt   10 units, 400.00     4 units, 160.00  (2 exchange, 1 credit, 1 refund)
    Mug           20 units, 200.00     1 unit,   10.00  (refund)
    Socks         10 units,  50.00     0
    shop          40 units, 650.00     5 units, 170.00

Left out: a rejected return, a return filed 40 days ago, an order delivered 40 days ago and
another shop's returns.
"""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus
from returns.dashboard.reports import returns_report
from returns.models import ReturnRequest, ReturnStatus
from returns.services import (
    ItemChoice,
    return_policy_for,
    return_request_create,
    return_request_reject,
)
from tests.factories import LineItemFactory, OrderFactory, ProductFactory, VariantFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db
_keys = itertools.count()


def delivered_order(shop, *, days_ago=2):
    return OrderFactory(
        shop=shop,
        status=OrderStatus.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=days_ago),
    )


def line(order, variant, quantity):
    return LineItemFactory(
        order=order,
        product=variant.product,
        variant=variant,
        title=variant.product.title,
        variant_title=variant.title,
        unit_price=variant.price,
        quantity=quantity,
    )


def file(line_item, quantity, reason, resolution, exchange_variant=None):
    return return_request_create(
        order=line_item.order,
        items=[
            ItemChoice(
                line_item_id=line_item.pk,
                quantity=quantity,
                reason_code=reason,
                resolution=resolution,
                exchange_variant_id=exchange_variant.pk if exchange_variant else None,
            )
        ],
        method="drop_off",
        submission_key=f"report-{next(_keys)}",
    )[0]


def resolved(rr, *, filed_days_ago, resolved_days_ago):
    now = timezone.now()
    ReturnRequest.objects.filter(pk=rr.pk).update(
        status=ReturnStatus.RESOLVED,
        created_at=now - timedelta(days=filed_days_ago),
        resolved_at=now - timedelta(days=resolved_days_ago),
    )


@pytest.fixture
def data(shop, other_shop):
    policy = return_policy_for(shop)
    policy.auto_approve = False
    policy.save(update_fields=["auto_approve"])

    shirt = ProductFactory(shop=shop, title="Linen shirt")
    shirt_m = VariantFactory(product=shirt, title="M", price=Decimal("40.00"))
    shirt_l = VariantFactory(product=shirt, title="L", price=Decimal("40.00"))
    mug = VariantFactory(product=ProductFactory(shop=shop, title="Mug"), price=Decimal("10.00"))
    socks = VariantFactory(product=ProductFactory(shop=shop, title="Socks"), price=Decimal("5.00"))

    shirts = line(delivered_order(shop), shirt_m, 4)
    line(delivered_order(shop), shirt_m, 6)
    mugs = line(delivered_order(shop), mug, 20)
    line(delivered_order(shop), socks, 10)
    line(delivered_order(shop, days_ago=40), shirt_m, 5)  # delivered before the period

    exchanged = file(shirts, 2, "too_small", "exchange", exchange_variant=shirt_l)
    credited = file(shirts, 1, "not_as_described", "store_credit")
    refunded = file(shirts, 1, "too_small", "refund")
    file(mugs, 1, "not_as_described", "refund")
    rejected = file(mugs, 3, "too_small", "refund")
    return_request_reject(return_request=rejected, actor=None, reason="Used")
    old = file(mugs, 2, "too_small", "refund")
    ReturnRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    # Resolved in 2 and 4 days: 3 days on average.
    resolved(exchanged, filed_days_ago=3, resolved_days_ago=1)
    resolved(refunded, filed_days_ago=5, resolved_days_ago=1)

    theirs = VariantFactory(product=ProductFactory(shop=other_shop), price=Decimal("99.00"))
    file(line(delivered_order(other_shop), theirs, 5), 5, "too_small", "refund")
    return {"shirt": shirt, "shirt_m": shirt_m, "mug": mug, "credited": credited}


def test_report_rates_for_the_shop(shop, data):
    report = returns_report(shop=shop, days=30)

    assert (report.units_returned, report.units_delivered) == (5, 40)
    assert (report.value_returned, report.value_delivered) == (
        Decimal("170.00"),
        Decimal("650.00"),
    )
    assert report.item_rate == Decimal("12.5")
    assert report.value_rate == Decimal("26.2")  # 170 / 650 = 26.15 %
    assert report.returns_filed == 4


def test_report_rates_by_product_and_variant(shop, data):
    report = returns_report(shop=shop, days=30)

    products = {row.title: row for row in report.products}
    assert set(products) == {"Linen shirt", "Mug"}
    shirt, mug = products["Linen shirt"], products["Mug"]
    assert (shirt.units_returned, shirt.units_delivered, shirt.item_rate) == (
        4,
        10,
        Decimal("40.0"),
    )
    assert (shirt.value_returned, shirt.value_delivered, shirt.value_rate) == (
        Decimal("160.00"),
        Decimal("400.00"),
        Decimal("40.0"),
    )
    assert (mug.units_returned, mug.units_delivered, mug.item_rate) == (1, 20, Decimal("5.0"))
    assert mug.value_rate == Decimal("5.0")
    variants = {(row.title, row.subtitle): row for row in report.variants}
    assert variants[("Linen shirt", "M")].item_rate == Decimal("40.0")
    assert ("Linen shirt", "L") not in variants  # the exchange's new variant was not returned


def test_report_reasons_breakdown(shop, data):
    report = returns_report(shop=shop, days=30)

    assert [(r.label, r.units, r.share, r.is_shop_fault) for r in report.reasons] == [
        ("Too small", 3, Decimal("60.0"), False),
        ("Not as described", 2, Decimal("40.0"), True),
    ]


def test_report_exchanges_and_credit_against_refunds(shop, data):
    report = returns_report(shop=shop, days=30)

    rows = {r.key: (r.units, r.value, r.share) for r in report.resolutions}
    assert rows == {
        "exchange": (2, Decimal("80.00"), Decimal("47.1")),
        "store_credit": (1, Decimal("40.00"), Decimal("23.5")),
        "refund": (2, Decimal("50.00"), Decimal("29.4")),
    }
    assert report.revenue_kept == Decimal("70.6")  # 120 / 170


def test_report_average_time_to_resolve(shop, data):
    report = returns_report(shop=shop, days=30)

    assert report.resolved_count == 2
    assert abs(report.average_resolution - timedelta(days=3)) < timedelta(seconds=1)


def test_report_flags_products_returned_well_above_average(shop, data):
    report = returns_report(shop=shop, days=30)

    # Shirt: 40 % >= 2 x 12.5 % with 4 units returned; mug: 5 %.
    assert [row.title for row in report.flagged] == ["Linen shirt"]


def test_report_does_not_flag_a_high_rate_on_fewer_than_three_units(shop):
    return_policy_for(shop)
    rare = VariantFactory(product=ProductFactory(shop=shop, title="Rare"), price=Decimal("9.00"))
    common = VariantFactory(product=ProductFactory(shop=shop, title="Common"))
    file(line(delivered_order(shop), rare, 2), 2, "too_small", "refund")
    line(delivered_order(shop), common, 98)

    report = returns_report(shop=shop, days=30)

    # 100 % against a 2 % average, but only 2 units: not flagged.
    assert report.products[0].item_rate == Decimal("100.0")
    assert report.flagged == []


def test_report_longer_period_takes_the_older_return(shop, data):
    report = returns_report(shop=shop, days=90)

    assert report.units_returned == 7
    assert report.units_delivered == 45


def test_report_costs_a_fixed_number_of_queries(shop, data, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        returns_report(shop=shop, days=30)


def test_report_page_shows_the_figures_and_the_flag(staff_client, shop, data):
    response = staff_client.get(reverse("returns_dashboard:report"), {"days": "30"})

    assert response.status_code == 200
    text = response.text
    assert "12.5 %" in text
    assert "70.6 %" in text
    assert "Needs a quality check" in text
    assert "Linen shirt" in text
    assert "3 d 0 h" in text
    # The flagged product has the highest rate: its bar is the tallest, and says why.
    bars = parse(text).find("svg", aria_label="Item return rate by product, in percent")
    heights = {
        rect.find("title").text(): float(rect.get("height")) for rect in bars.find_all("rect")
    }
    flagged = "Linen shirt (needs a quality check): 40"
    assert heights[flagged] == max(heights.values()) > 0


def _rate_column(table):
    # A flagged product's cell carries its chip after the title.
    return {
        row[0].removesuffix("Needs a quality check").strip(): Decimal(row[3].removesuffix(" %"))
        for row in table.rows()
    }


def test_report_chart_carries_the_numbers_of_its_table(staff_client, shop, data):
    page = parse(staff_client.get(reverse("returns_dashboard:report"), {"days": "30"}).text)

    figure = page.find("svg", aria_label="Item return rate by product, in percent").parent
    chart_rows = {label: Decimal(value) for label, value in figure.find("table").rows()}
    bar_titles = [rect.find("title").text() for rect in figure.find_all("rect")]
    by_product = _rate_column(page.find("section", id="products").find("table"))

    # Every bar has its number in the chart's table, in the same order.
    assert bar_titles == [f"{label}: {value.normalize():f}" for label, value in chart_rows.items()]
    assert chart_rows.pop("Shop average") == Decimal(
        page.find(id="item-rate").text().removesuffix(" %")
    )
    assert chart_rows == {
        "Linen shirt (needs a quality check)": by_product["Linen shirt"],
        "Mug": by_product["Mug"],
    }
    assert set(by_product) == {"Linen shirt", "Mug"}  # the products returned in the period
    assert chart_rows["Mug"] == Decimal("5.0")


def test_report_page_of_an_empty_shop(staff_client, shop):
    response = staff_client.get(reverse("returns_dashboard:report"), {"days": "365"})

    assert response.status_code == 200
    assert "Nothing delivered or returned in the last 365 days" in response.text
