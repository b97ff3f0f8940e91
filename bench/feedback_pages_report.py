"""The survey's one-tap link and the review widget and JSON in the report: method, results,
targets, console lines and checks, from the per-endpoint summaries (`bench.report.Run.summary()`)
and the `FeedbackPages` facts. `bench.report` stays the one place that writes the page."""

from collections.abc import Mapping
from typing import Any

from bench.feedback_pages import REVIEWS_JSON, TAP_FIRST, TAP_REPEAT, WIDGET, FeedbackPages
from bench.tracking_report import (
    HELLO,
    ONE_ROW,
    LoadSummary,
    fmt_ratio,
    kb,
    ratio,
    statements_table,
    timings_table,
    verdict,
)

LABELS = {
    TAP_FIRST: "`GET /feedback/<token>/score/<n>/` (survey one-tap link, first taps: 303)",
    TAP_REPEAT: "`GET /feedback/<token>/score/<n>/` (survey one-tap link, repeated tap: 303)",
    WIDGET: "`GET /feedback/widget/<shop>/<product>/` (review widget, cached)",
    REVIEWS_JSON: "`GET /feedback/api/<shop>/<product>/reviews.json` (reviews JSON, cached)",
}
# The numbers, against the one-row read in the same run on the same server.
TAP_RATIO_TARGET = 0.50
TAP_P99_TARGET_MS = 100.0
STOREFRONT_RATIO_TARGET = 1.00
WIDGET_SIZE_TARGET_BYTES = 30 * 1024

_TAPS = (
    (TAP_FIRST, "tap_first", "one-tap link, first taps: the answer recorded"),
    (TAP_REPEAT, "tap_repeat", "one-tap link, repeated tap of an answered survey"),
)
_STOREFRONT = (
    (WIDGET, "widget", "review widget, cached"),
    (REVIEWS_JSON, "json", "reviews JSON, cached"),
)
_VIEWS = tuple((key, label) for _, key, label in (*_TAPS, *_STOREFRONT))
_GOALS = {
    TAP_FIRST: TAP_RATIO_TARGET,
    TAP_REPEAT: TAP_RATIO_TARGET,
    WIDGET: STOREFRONT_RATIO_TARGET,
    REVIEWS_JSON: STOREFRONT_RATIO_TARGET,
}


def _product(fp: FeedbackPages) -> str:
    f = fp.facts
    return f"{f['product_title']} (`{f['product']}`, {f['reviews']:,} published reviews)"


def method(fp: FeedbackPages, c: dict[str, str]) -> list[str]:
    f = fp.facts
    return [
        "- **Survey one-tap link, review widget and JSON.** Four more endpoints in the same "
        f"interleaved rounds as the one-row read (same wrk settings). Before the server starts, "
        f"`bench/feedback_pages_probe.py prepare` gives every delivered demo order without a "
        f"survey one in `sent` state (as if its email had gone out the day before: "
        f"{f['added']:,} added to the demo's {f['unanswered_before']:,} unanswered ones; the "
        "contact budget is not applied to these rows) and writes the one-tap link of each of "
        f"the {fp.taps:,} unanswered surveys, with the top score of its scale, in a fixed "
        "mixed order. **First taps:** `bench/wrk/paths.lua` walks through those links, each "
        "wrk thread its own share, none repeated within a run; each tap reads the survey, "
        "records the answer (row lock, answer, survey's state, the `survey_answered` domain "
        "event, and the reminder cancelled if one was planned, in one transaction) and "
        "answers 303 to the survey's page. Before each first-tap run the answers the taps "
        "recorded are deleted and their surveys set back to `sent`, so every tap of every run "
        "is a first tap. **Repeated "
        "tap:** the link of one answered demo survey with its recorded score "
        f"({f['repeat_score']}), again and again: it records nothing and answers the same "
        "303. A 303 is the one-tap link's answer (it is how the tap lands on the survey's "
        "page), so for these two endpoints a 3xx is counted as success and anything else, a "
        "2xx included, as a failure. Every tap carries its own `X-Forwarded-For` address and "
        "the server trusts one proxy (`TRUSTED_PROXY_COUNT=1`, wrk standing in for it), as "
        "many customers' taps behind a load balancer: the survey pages' per-address rate "
        "limit (60 a visitor in 10 minutes) counts every tap, one Redis round trip, and stops "
        f"none. **Widget and JSON:** page 1 of {_product(fp)}, the demo product with the most "
        "published reviews; the warm-up run fills the cache and nothing changes the reviews "
        "during the runs, so every measured request is served from the cache (no "
        "`If-None-Match`: each gets the whole body). After gunicorn has stopped, "
        "`bench/feedback_pages_probe.py measure` counts the SQL statements and Redis round "
        "trips of one request of each kind and times them in one process beside the one-row "
        "read, through Django's full request handling (the test client).",
    ]


def _load_table(s: Mapping[str, LoadSummary]) -> list[str]:
    row = s.get(ONE_ROW)
    rows = [
        "| view, same run and server | requests/s | p50 | p99 | share of the one-row read's "
        "requests/s | goal |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    if row is not None:
        rows.append(
            f"| one-row read (`/bench/order/<pk>`) | {row.rps:,.0f} | {row.p50_ms:.1f} ms | "
            f"{row.p99_ms:.1f} ms | 1.00 | - |"
        )
    for name, _, label in (*_TAPS, *_STOREFRONT):
        m = s.get(name)
        if m is None:
            continue
        flag = "" if m.is_valid else " (does not count: failures)"
        rows.append(
            f"| {label}{flag} | {m.rps:,.0f} | {m.p50_ms:.1f} ms | {m.p99_ms:.1f} ms | "
            f"**{fmt_ratio(ratio(m, row))}** | ≥ {_GOALS[name]:.2f} |"
        )
    return rows


def _size(p: dict[str, Any]) -> int:
    z = p["sizes"]
    return int(z["html_bytes"] + z["css_bytes"])


def _sizes(p: dict[str, Any]) -> list[str]:
    z = p["sizes"]
    return [
        f"Widget weight: HTML {z['html_bytes']:,} bytes + `review-widget.css` "
        f"{z['css_bytes']:,} bytes = **{_size(p):,} bytes ({kb(_size(p))})**, against "
        f"< {kb(WIDGET_SIZE_TARGET_BYTES)} (photos aside); gzip: {z['html_gzip_bytes']:,} + "
        f"{z['css_gzip_bytes']:,} bytes. The JSON's first page: {z['json_bytes']:,} bytes "
        f"({z['json_gzip_bytes']:,} with gzip).",
    ]


def _timings(p: dict[str, Any]) -> list[str]:
    return [
        f"In one process (no server; Django's full request handling through the test client; "
        f"{p['repeat']} requests each after a warm-up; every first tap on a survey not yet "
        "answered):",
        "",
        *timings_table(p["timings"], _VIEWS),
    ]


def _passes(name: str, m: LoadSummary | None, row: LoadSummary | None) -> bool | None:
    value = ratio(m, row)
    if value is None or m is None:
        return None
    ok = value >= _GOALS[name]
    if name in (TAP_FIRST, TAP_REPEAT):
        ok = ok and m.p99_ms < TAP_P99_TARGET_MS
    return ok


def _reading(s: Mapping[str, LoadSummary]) -> list[str]:
    row = s.get(ONE_ROW)
    met: list[str] = []
    missed: list[str] = []
    for name, _, label in (*_TAPS, *_STOREFRONT):
        ok = _passes(name, s.get(name), row)
        if ok is not None:
            (met if ok else missed).append(label)
    if not met and not missed:
        return []
    lines = []
    if met:
        lines.append(f"Meet their target: {'; '.join(met)}.")
    if missed:
        lines.append(f"Fall short of their target: {'; '.join(missed)}.")
    return [" ".join(lines)]


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n or 'no'} {what}s"


def _costs(p: dict[str, Any]) -> list[str]:
    """What each request asks of Postgres and Redis: the figures the ratios follow."""
    st = p["statements"]

    def cost(key: str) -> str:
        row = st[key]
        return (
            f"{_count(row['queries'], 'SQL statement')} and "
            f"{_count(row['redis_round_trips'], 'Redis round trip')}"
        )

    return [
        f"A first tap writes: {cost('tap_first')}, the statements in one transaction whose "
        "commit waits for the write-ahead log to reach the disk, against the one-row read's "
        "single SELECT; that write is what sets it apart from the cached tracking page. A "
        f"repeated tap reads: {cost('tap_repeat')} (the per-address limit). The cached "
        f"widget: {cost('widget')}; the cached JSON: {cost('json')}.",
    ]


def section(fp: FeedbackPages, s: Mapping[str, LoadSummary]) -> list[str]:
    lines = [
        "### Survey one-tap link, review widget and JSON",
        "",
        f"{fp.taps:,} unanswered surveys' links for the first taps; the widget and JSON of "
        f"{_product(fp)}. Goals: a tap at ≥ {TAP_RATIO_TARGET:.2f}× the one-row read's "
        f"requests/s with a p99 under {TAP_P99_TARGET_MS:.0f} ms; the widget and JSON from "
        f"the cache at ≥ {STOREFRONT_RATIO_TARGET:.2f}×.",
        "",
        *_load_table(s),
    ]
    reading = _reading(s)
    lines += ["", *reading] if reading else []
    p = fp.probe
    if not p:
        failed = f"In-process measurements failed: `{fp.probe_error[-500:]}`"
        return [*lines, "", failed] if fp.probe_error else lines
    return [
        *lines,
        "",
        *_sizes(p),
        "",
        "Statements per request, in one process:",
        "",
        *statements_table(p["statements"], _VIEWS),
        "",
        *_costs(p),
        "",
        *_timings(p),
    ]


def targets(fp: FeedbackPages, s: Mapping[str, LoadSummary]) -> list[tuple[str, str, str, str]]:
    row = s.get(ONE_ROW)
    found = []
    for name, _, label in (*_TAPS, *_STOREFRONT):
        m = s.get(name)
        value = ratio(m, row)
        what = f"{label}: rps / one-row rps"
        goal = f"≥ {_GOALS[name]:.2f}"
        if m is None or row is None or value is None:
            found.append((what, goal, "no valid run", "NOT MEASURED"))
            continue
        found.append(
            (
                what,
                goal,
                f"{value:.2f} ({m.rps:,.0f} against {row.rps:,.0f} requests/s)",
                verdict(value >= _GOALS[name]),
            )
        )
        if name in (TAP_FIRST, TAP_REPEAT):
            found.append(
                (
                    f"{label}: p99 latency",
                    f"< {TAP_P99_TARGET_MS:.0f} ms",
                    f"{m.p99_ms:.1f} ms",
                    verdict(m.p99_ms < TAP_P99_TARGET_MS),
                )
            )
    if fp.probe:
        found.append(
            (
                "review widget HTML + `review-widget.css`",
                f"< {kb(WIDGET_SIZE_TARGET_BYTES)}",
                kb(_size(fp.probe)),
                verdict(_size(fp.probe) < WIDGET_SIZE_TARGET_BYTES),
            )
        )
    return found


def console(fp: FeedbackPages, s: Mapping[str, LoadSummary]) -> list[str]:
    row, hello = s.get(ONE_ROW), s.get(HELLO)
    lines = [f"survey taps ({fp.taps:,} unanswered surveys), review widget and JSON"]
    for name, _, label in (*_TAPS, *_STOREFRONT):
        m = s.get(name)
        if m is not None:
            lines.append(
                f"  {label}: {m.rps:,.0f} req/s (p99 {m.p99_ms:.1f} ms) = "
                f"{fmt_ratio(ratio(m, row))} of one-row, {fmt_ratio(ratio(m, hello))} of hello"
            )
    p = fp.probe
    if p:
        st = p["statements"]
        cost = ", ".join(
            f"{key} {st[key]['queries']} SQL + {st[key]['redis_round_trips']} Redis"
            for key, _ in _VIEWS
        )
        lines += [f"  widget {_size(p):,} bytes with its stylesheet; per request: {cost}"]
    elif fp.probe_error:
        lines.append(f"  in-process probe failed: {fp.probe_error[-300:]}")
    return lines


def notes(fp: FeedbackPages) -> list[str]:
    """The first-tap runs: each tap a survey's first, and each one an answer recorded."""
    runs = fp.first_tap_runs
    if not runs:
        return []
    repeated = sum(max(0, requests - fp.taps) for requests, _ in runs)
    counted = ", ".join(f"{requests:,} taps → {answers:,}" for requests, answers in runs)
    outcome = (
        "every tap was its survey's first"
        if repeated == 0
        else f"{repeated:,} taps came back to a survey already answered in their run"
    )
    return [
        f"First-tap runs (warm-up first), taps counted by wrk → answers recorded: {counted} "
        f"(a run's answers can exceed its count by the taps still in flight when wrk "
        f"stopped); {fp.answers_reset:,} answers deleted in all, before each run, for "
        f"{fp.taps:,} surveys: {outcome}.",
    ]
