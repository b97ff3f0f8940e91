"""Questions about a row's state are the model's predicates, answered from its transition table
where it has one; views and templates ask them instead of comparing statuses themselves."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.models import MESSAGE_TRANSITIONS, Message, MessageStatus
from orders.models import (
    Order,
    OrderStatus,
    ProblemReport,
    ProblemStatus,
    Shop,
    WebhookEvent,
    WebhookStatus,
)
from orders.tracking.page import Stage
from returns.models import RETURN_TRANSITIONS, ReturnMethod, ReturnRequest, ReturnStatus

_R, _M = ReturnStatus, MessageStatus


def _holding(model, predicate: str, statuses, **fields) -> set[str]:
    """The statuses in which an instance answers `predicate` with True."""
    return {s for s in statuses if getattr(model(status=s, **fields), predicate)}


# --- returns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("is_open", {_R.REQUESTED, _R.APPROVED, _R.IN_TRANSIT, _R.RECEIVED, _R.INSPECTED}),
        ("is_rejected", {_R.REJECTED}),
        ("can_decide", {_R.REQUESTED}),
        ("can_cancel", {_R.REQUESTED, _R.APPROVED}),
        ("awaits_items", {_R.REQUESTED, _R.APPROVED, _R.IN_TRANSIT}),
        ("can_resolve", {_R.INSPECTED}),
    ],
)
def test_a_return_answers_each_question_in_exactly_these_states(predicate, expected):
    assert _holding(ReturnRequest, predicate, _R.values, method=ReturnMethod.DROP_OFF) == expected


def test_a_kept_item_is_resolved_straight_from_approval():
    held = _holding(ReturnRequest, "can_resolve", _R.values, method=ReturnMethod.KEEP_ITEM)

    assert held == {_R.APPROVED, _R.INSPECTED}


def test_a_change_of_the_return_table_changes_what_is_offered(monkeypatch):
    approved = ReturnRequest(status=_R.APPROVED, method=ReturnMethod.DROP_OFF)
    assert approved.can_cancel
    assert approved.awaits_items

    monkeypatch.setitem(RETURN_TRANSITIONS, _R.APPROVED, {_R.RESOLVED})

    assert not approved.can_cancel
    assert not approved.awaits_items  # the items can no longer reach the shop from here


# --- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("is_held", {_M.HELD}),
        ("can_send_now", {_M.SCHEDULED}),
        ("can_cancel", {_M.SCHEDULED, _M.QUEUED}),
        ("can_retry", {_M.FAILED, _M.HELD}),
        ("can_settle", {_M.HELD}),
    ],
)
def test_a_message_answers_each_question_in_exactly_these_states(predicate, expected):
    assert _holding(Message, predicate, _M.values) == expected


def test_a_change_of_the_message_table_changes_what_staff_are_offered(monkeypatch):
    failed = Message(status=_M.FAILED)
    assert failed.can_retry

    monkeypatch.setitem(MESSAGE_TRANSITIONS, _M.FAILED, set())

    assert not failed.can_retry


# --- orders, problem reports, webhooks -------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("is_cancelled", {OrderStatus.CANCELLED}),
        ("is_delivered", {OrderStatus.DELIVERED, OrderStatus.CLOSED}),
    ],
)
def test_an_order_answers_each_question_in_exactly_these_states(predicate, expected):
    assert _holding(Order, predicate, OrderStatus.values) == expected


def test_only_a_delivered_order_within_its_window_may_open_a_return():
    now = timezone.now()
    shop = Shop(return_window_days=30)

    may = {
        status
        for status in OrderStatus.values
        if Order(status=status, shop=shop, delivered_at=now - timedelta(days=1)).can_open_return(
            now
        )
    }

    assert may == {OrderStatus.DELIVERED}


def test_a_problem_report_is_open_until_resolved():
    assert _holding(ProblemReport, "is_open", ProblemStatus.values) == {ProblemStatus.OPEN}


def test_a_webhook_delivery_is_ignored_only_when_stored_as_ignored():
    assert _holding(WebhookEvent, "is_ignored", WebhookStatus.values) == {WebhookStatus.IGNORED}


@pytest.mark.parametrize(
    ("predicate", "expected"), [("is_done", {"done"}), ("is_current", {"current"})]
)
def test_a_tracking_page_stage_answers_where_the_parcel_is(predicate, expected):
    states = ("done", "current", "todo")
    held = {state for state in states if getattr(Stage("shipped", state), predicate)}

    assert held == expected


# --- nobody else compares statuses -----------------------------------------------------------

APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")
# In an `if` or `elif` (the only tags that compare): `x.status`, a bare `status` handed to the
# template, or a page's `x.state`.
_TEMPLATE_STATUS_TEST = re.compile(
    r"\{%\s*(?:el)?if\b[^%]*(?:\.|\b)(?:status|state)\s*(==|!=|in\b|not in\b)[^%]*%\}"
)


def test_no_template_compares_a_status():
    root = Path(settings.BASE_DIR) / "templates"
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in sorted(root.rglob("*.html"))
        for match in _TEMPLATE_STATUS_TEST.finditer(path.read_text())
    ]
    assert found == [], "ask the model: {% if order.is_cancelled %}, not a status comparison"


def _is_surface(path: Path) -> bool:
    """Views, forms, selectors, template tags and the pages' builders."""
    return bool(
        {"dashboard", "portal", "api", "tracking", "templatetags"} & set(path.parts)
    ) or any(
        # By the module's own name (`views`, `template_views`): `reviews.py` holds no view.
        path.stem == kind or path.stem.endswith(f"_{kind}")
        for kind in ("views", "forms", "selectors", "lookup")
    )


def _compares_a_status(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops)
        and any(
            isinstance(side, ast.Attribute) and side.attr.endswith("status")
            for side in (node.left, *node.comparators)
        )
    )


def test_no_view_form_or_selector_compares_a_status():
    root = Path(settings.BASE_DIR)
    found = [
        f"{path.relative_to(root)}:{node.lineno}"
        for app in APPS
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.parts and _is_surface(path.relative_to(root))
        for node in ast.walk(ast.parse(path.read_text()))
        if _compares_a_status(node)
    ]
    assert found == [], "ask the model's predicate (can_cancel, is_open, …)"
