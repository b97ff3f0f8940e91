"""The benchmark's bulk fill of the ledger leaves what `entry_book` would: every member row
equal to the sum of its entries and its open lots holding its available points, so the
nightly check over the filled ledger measures a ledger that adds up."""

import pytest

from bench.loyalty import ledger_fill
from loyalty.earning.ledger_check import ledger_check
from loyalty.ledger import balances_summed
from loyalty.models import LedgerEntry, Member
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


def test_the_filled_ledger_adds_up():
    shop = ShopFactory()

    inserted = ledger_fill(shop_id=shop.pk, customers=5, entries_per_member=8)

    members = list(Member.objects.filter(shop=shop))
    assert len(members) == 5
    assert inserted == 40 == LedgerEntry.objects.filter(shop=shop).count()
    summed = balances_summed([m.pk for m in members])
    for member in members:
        assert (member.available, member.pending) == summed[member.pk]
        assert member.available > 0
    run = ledger_check()
    assert (run.members_checked, run.drift) == (5, [])


def test_the_figures_are_targets_of_the_report():
    from datetime import UTC, datetime

    from bench.loyalty import LoyaltyBench
    from bench.report import Run, console, targets
    from tests.feedback.test_analysis_bench import _section

    run = Run(started=datetime(2026, 12, 6, tzinfo=UTC), config={}, machine={}, seconds={})
    run.loyalty = LoyaltyBench(
        orders=400,
        earn_ms=[3.1, 6.0, 3.4],
        earn_cpu_ms=2.0,
        earn_queries=[26, 20],
        balance_entries=10_000,
        balance_ms=[0.42, 0.9],
        balance_db_ms=0.015,
        balance_statements=1,
        balance_plan="Index Scan using loyalty_member_customer_id_key on loyalty_member",
        check_entries=1_000_000,
        check_members=50_000,
        fill_members=50_000,
        check_seconds=4.2,
    )

    found = {t.what: (t.measured, t.verdict) for t in targets(run) if "loyalty" in t.what}

    [earning] = [v for k, v in found.items() if "booking an order's points" in k]
    assert earning == ("3.10 ms (p99 6.00 ms)", "FALL SHORT")
    assert found["loyalty: nightly drift check over 1,000,000 entries"] == (
        "4.2 s, 0 drifted",
        "PASS",
    )
    assert found["loyalty page: rps / one-row rps"] == ("no valid run", "NOT MEASURED")
    [balance] = [v for k, v in found.items() if "balance" in k]
    assert balance[1] == "PASS"
    assert "loyalty drift check: 1,000,000 entries" in console(run)
    page = _section(run)
    assert "### Loyalty ledger" in page
    assert "**4.2 s**" in page


def test_the_cached_page_is_a_target_with_its_statements_and_size():
    from bench.loyalty import LoyaltyBench, console, targets

    result = LoyaltyBench(
        orders=0,
        page_queries=0,
        page_redis_round_trips=1,
        page_render_queries=14,
        page_bytes=8000,
        page_gzip_bytes=1900,
        page_ms=0.6,
        page_render_ms=20.0,
        one_row_ms=0.75,
    )
    slow = LoyaltyBench(orders=0, page_queries=2, page_ms=0.6, one_row_ms=0.75)

    [(_what, _goal, measured, verdict)] = [t for t in targets(result) if "loyalty page" in t[0]]
    [slow_verdict] = [t[3] for t in targets(slow) if "loyalty page" in t[0]]

    assert verdict == "PASS"
    assert measured.startswith("1.25 (0.600 ms against 0.750 ms)")
    assert "0 SQL statements and 1 Redis round trip" in measured
    assert "7.8 KB (1.9 KB gzipped)" in measured
    assert slow_verdict == "FALL SHORT"
    assert any("loyalty page, cached: median 0.600 ms" in line for line in console(result))
