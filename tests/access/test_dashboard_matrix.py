"""Every dashboard URL, for every kind of visitor, by GET and by POST: answered as the staff
policy says.

The URLs come from the URLconf itself: a new dashboard view shows up here as a new case, and
fails until it declares what it needs (`StaffPermissionMixin.permission`) and is given its
expected actions below. Each visitor's request runs in a savepoint that is rolled back, so every
one meets the same shop; a refused one must also leave the database exactly as it was.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from loyalty.models import Reward
from notifications.dashboard.email_frame import email_preview_stash
from orders.models import ApiKey, StaffInvitation, StaffMembership
from orders.services.api_keys import api_key_create
from postpurchase import permissions as p
from postpurchase.shell.staff import StaffPermissionMixin
from tests.feedback.test_settings_pages import policy_post as case_policy_post
from tests.feedback.test_settings_pages import survey_post as survey_settings_post
from tests.loyalty.test_dashboard_rewards import loyalty_reward_post
from tests.loyalty.test_dashboard_settings import loyalty_rules_post, loyalty_tiers_post
from tests.returns.test_dashboard import policy_post

pytestmark = pytest.mark.django_db

# Who knocks: the shop's own staff, another shop's owner, and nobody.
OWNER, MANAGER, AGENT, OTHER_OWNER, ANONYMOUS = (
    "owner",
    "manager",
    "agent",
    "other_owner",
    "anonymous",
)
VISITORS = (ANONYMOUS, OTHER_OWNER, AGENT, MANAGER, OWNER)
APPS_WITH_SHOP_DATA = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")


@dataclass(frozen=True)
class Case:
    """What one dashboard URL needs: the policy's action for each method it takes (None: the
    view does not take the method), its kwargs and its POST body from the shop's objects."""

    kwargs: Callable[[Any], dict[str, Any]] = lambda w: {}
    get: str | None = None
    post: str | None = None
    data: Callable[[Any], dict[str, Any]] = lambda w: {}
    # Another shop's owner asks for an object of this shop: 404. Set for URLs that name one
    # by something other than an integer id.
    names_an_object: bool = False


def _flow_post(w) -> dict[str, Any]:
    return {
        "is_enabled": "",
        "channels": ["email"],
        "delay_amount": "0",
        "delay_unit": "hours",
        "useful_amount": "",
        "useful_unit": "hours",
    }


def _template_post(w) -> dict[str, Any]:
    return {
        "channel": "email",
        "locale": "",
        "subject": "Changed {{ order_number }}",
        "body_text": "Hello {{ customer_first_name }}",
        "body_html": "",
    }


_RETURN = {"pk": lambda w: w.return_request.pk}
_REVIEW = {"pk": lambda w: w.review.pk}
_CASE = {"pk": lambda w: w.case.pk}


def _agent_membership(w) -> StaffMembership:
    return StaffMembership.objects.get(shop=w.shop, user=w.agent)


def _invitation(w) -> StaffInvitation:
    return StaffInvitation.objects.filter(shop=w.shop).first() or StaffInvitation.objects.create(
        shop=w.shop,
        email="invited@example.org",
        role="agent",
        expires_at=timezone.now() + timedelta(days=7),
    )


def _api_key(w) -> ApiKey:
    return ApiKey.objects.filter(shop=w.shop).first() or api_key_create(shop=w.shop, name="ERP")[0]


def _reward(w) -> Reward:
    return Reward.objects.filter(shop=w.shop, is_active=True).order_by("pk").first()


# The expected actions of every dashboard URL (by name; action URLs by name and slug).
CASES: dict[str, Case] = {
    "dashboard:home": Case(get=p.DASHBOARD_VIEW),
    "dashboard:order_list": Case(get=p.DASHBOARD_VIEW),
    "dashboard:order_detail": Case(lambda w: {"pk": w.order.pk}, get=p.DASHBOARD_VIEW),
    "dashboard:tracking_link_renew": Case(lambda w: {"pk": w.order.pk}, post=p.TRACKING_LINK_RENEW),
    "dashboard:problem_photo": Case(
        lambda w: {"pk": w.order.pk, "report_id": w.report.pk}, get=p.DASHBOARD_VIEW
    ),
    "dashboard:problem_resolve": Case(
        lambda w: {"pk": w.order.pk, "report_id": w.report.pk}, post=p.CASE_HANDLE
    ),
    "dashboard:shop_select": Case(
        post=p.DASHBOARD_VIEW,
        data=lambda w: {"shop": w.shop.pk, "next": "/dashboard/orders/"},
        names_an_object=True,
    ),
    "messaging:overview": Case(get=p.DASHBOARD_VIEW),
    "messaging:message_list": Case(get=p.DASHBOARD_VIEW),
    "messaging:message_detail": Case(lambda w: {"pk": w.message.pk}, get=p.DASHBOARD_VIEW),
    "messaging:message_email": Case(lambda w: {"pk": w.message.pk}, get=p.DASHBOARD_VIEW),
    "messaging:message_action:send-now": Case(
        lambda w: {"pk": w.message.pk, "action": "send-now"},
        get=p.MESSAGE_OPERATE,
        post=p.MESSAGE_OPERATE,
    ),
    "messaging:message_action:cancel": Case(
        lambda w: {"pk": w.message.pk, "action": "cancel"},
        get=p.MESSAGE_OPERATE,
        post=p.MESSAGE_OPERATE,
    ),
    "messaging:message_action:retry": Case(
        lambda w: {"pk": w.message.pk, "action": "retry"},
        get=p.MESSAGE_OPERATE,
        post=p.MESSAGE_OPERATE,
        data=lambda w: {"held_confirmed": "yes"},
    ),
    "messaging:message_action:settle": Case(
        lambda w: {"pk": w.message.pk, "action": "settle"},
        get=p.MESSAGE_OPERATE,
        post=p.MESSAGE_OPERATE,
        data=lambda w: {"outcome": "failed", "note": "Not in the provider's log."},
    ),
    "messaging:flow_list": Case(get=p.DASHBOARD_VIEW),
    "messaging:flow_edit": Case(
        lambda w: {"pk": w.flow.pk}, get=p.DASHBOARD_VIEW, post=p.FLOW_EDIT, data=_flow_post
    ),
    "messaging:suppression_list": Case(
        get=p.DASHBOARD_VIEW,
        post=p.SUPPRESSION_EDIT,
        data=lambda w: {"channel": "email", "address": "new@example.org"},
    ),
    "messaging:suppression_remove": Case(
        lambda w: {"pk": w.suppression.pk}, post=p.SUPPRESSION_EDIT
    ),
    "messaging:customer_list": Case(get=p.DASHBOARD_VIEW),
    "messaging:customer_detail": Case(lambda w: {"pk": w.customer.pk}, get=p.DASHBOARD_VIEW),
    "message_templates:list": Case(get=p.DASHBOARD_VIEW),
    "message_templates:edit": Case(
        lambda w: {"kind": "order_confirmation"},
        get=p.DASHBOARD_VIEW,
        post=p.TEMPLATE_EDIT,
        data=_template_post,
    ),
    "message_templates:preview": Case(
        lambda w: {"kind": "order_confirmation"}, post=p.DASHBOARD_VIEW, data=_template_post
    ),
    "message_templates:preview_frame": Case(
        lambda w: {"token": email_preview_stash(shop=w.shop, html="<p>Draft</p>")},
        get=p.DASHBOARD_VIEW,
        # The token was stashed for this shop: another shop's staff find nothing under it.
        names_an_object=True,
    ),
    "message_templates:reset": Case(lambda w: {"pk": w.template.pk}, post=p.TEMPLATE_EDIT),
    "returns_dashboard:queue": Case(get=p.DASHBOARD_VIEW),
    "returns_dashboard:bulk": Case(
        post=p.RETURN_DECIDE,
        # Another shop's owner only ever moves their own shop's returns (a foreign id is
        # "not found"): tests/returns/test_dashboard.py checks this one.
        data=lambda w: {"action": "approve", "ids": [w.return_request.pk]},
    ),
    "returns_dashboard:policy": Case(
        get=p.DASHBOARD_VIEW,
        post=p.RETURN_POLICY_EDIT,
        data=lambda w: policy_post(w.shop, **{"window-return_window_days": "61"}),
    ),
    "returns_dashboard:report": Case(get=p.DASHBOARD_VIEW),
    "returns_dashboard:detail": Case(lambda w: {"pk": w.return_request.pk}, get=p.DASHBOARD_VIEW),
    "returns_dashboard:item_photo": Case(
        lambda w: {"pk": w.return_request.pk, "item_id": w.item.pk}, get=p.DASHBOARD_VIEW
    ),
    "returns_dashboard:action:approve": Case(
        lambda w: {**_kw(w, _RETURN), "action": "approve"}, post=p.RETURN_DECIDE
    ),
    "returns_dashboard:action:reject": Case(
        lambda w: {**_kw(w, _RETURN), "action": "reject"},
        post=p.RETURN_DECIDE,
        data=lambda w: {"reason": "Worn."},
    ),
    "returns_dashboard:action:in-transit": Case(
        lambda w: {**_kw(w, _RETURN), "action": "in-transit"}, post=p.RETURN_HANDLE
    ),
    "returns_dashboard:action:receive": Case(
        lambda w: {**_kw(w, _RETURN), "action": "receive"}, post=p.RETURN_RECEIVE
    ),
    "returns_dashboard:action:inspect": Case(
        lambda w: {**_kw(w, _RETURN), "action": "inspect"}, post=p.RETURN_RECEIVE
    ),
    "returns_dashboard:action:resolve": Case(
        lambda w: {**_kw(w, _RETURN), "action": "resolve"}, post=p.RETURN_RESOLVE
    ),
    "reviews_dashboard:queue": Case(get=p.DASHBOARD_VIEW),
    "reviews_dashboard:incentive": Case(
        get=p.DASHBOARD_VIEW,
        post=p.REVIEW_INCENTIVE_EDIT,
        data=lambda w: {"kind": "points", "points": "50", "discount_text": ""},
    ),
    "reviews_dashboard:detail": Case(lambda w: _kw(w, _REVIEW), get=p.DASHBOARD_VIEW),
    "reviews_dashboard:photo": Case(
        lambda w: {**_kw(w, _REVIEW), "photo_id": w.review_photo.pk}, get=p.DASHBOARD_VIEW
    ),
    "reviews_dashboard:action:publish": Case(
        lambda w: {**_kw(w, _REVIEW), "action": "publish"}, post=p.REVIEW_MODERATE
    ),
    "reviews_dashboard:action:reject": Case(
        lambda w: {**_kw(w, _REVIEW), "action": "reject"},
        post=p.REVIEW_MODERATE,
        data=lambda w: {"rule": "personal_data"},
    ),
    "reviews_dashboard:action:reply": Case(
        lambda w: {**_kw(w, _REVIEW), "action": "reply"},
        post=p.REVIEW_REPLY,
        data=lambda w: {"body": "Thank you, we are calling you today."},
    ),
    "reviews_dashboard:action:flag-photo": Case(
        lambda w: {**_kw(w, _REVIEW), "action": "flag-photo"},
        post=p.REVIEW_MODERATE,
        data=lambda w: {"photo": w.review_photo.pk},
    ),
    "feedback_numbers:overview": Case(get=p.DASHBOARD_VIEW),
    "feedback_settings:surveys": Case(
        get=p.DASHBOARD_VIEW,
        post=p.SURVEY_SETTINGS_EDIT,
        data=lambda w: survey_settings_post(),
    ),
    "feedback_settings:case_policy": Case(
        get=p.DASHBOARD_VIEW,
        post=p.CASE_POLICY_EDIT,
        data=lambda w: case_policy_post(holidays="2026-12-24"),
    ),
    "feedback_cases:open_for_order": Case(
        lambda w: {"pk": w.order.pk},
        get=p.CASE_HANDLE,
        post=p.CASE_HANDLE,
        data=lambda w: {"summary": "Called about the lid", "priority": "normal"},
    ),
    "feedback_cases:queue": Case(get=p.DASHBOARD_VIEW),
    "feedback_cases:detail": Case(lambda w: {"pk": w.case.pk}, get=p.DASHBOARD_VIEW),
    "feedback_cases:action:reply": Case(
        lambda w: {**_kw(w, _CASE), "action": "reply"},
        post=p.CASE_HANDLE,
        data=lambda w: {"channel": "email", "body": "So sorry: a new one is on its way."},
    ),
    "feedback_cases:action:note": Case(
        lambda w: {**_kw(w, _CASE), "action": "note"},
        post=p.CASE_HANDLE,
        data=lambda w: {"body": "Called them."},
    ),
    "feedback_cases:action:assign": Case(
        lambda w: {**_kw(w, _CASE), "action": "assign"},
        post=p.CASE_HANDLE,
        data=lambda w: {"assignee": str(w.agent.pk)},
    ),
    "feedback_cases:action:resolve": Case(
        lambda w: {**_kw(w, _CASE), "action": "resolve"},
        post=p.CASE_HANDLE,
        data=lambda w: {"kind": "apology", "note": "Apologised."},
    ),
    "shop_settings:home": Case(get=p.SETTINGS_VIEW),
    "shop_settings:staff": Case(
        get=p.SETTINGS_VIEW,
        post=p.STAFF_EDIT,
        data=lambda w: {"email": "new.hire@example.org", "role": "agent"},
    ),
    "shop_settings:staff_role": Case(
        lambda w: {"pk": _agent_membership(w).pk},
        post=p.STAFF_EDIT,
        data=lambda w: {f"m{_agent_membership(w).pk}-role": "manager"},
    ),
    "shop_settings:staff_remove": Case(
        lambda w: {"pk": _agent_membership(w).pk}, post=p.STAFF_EDIT
    ),
    "shop_settings:profile": Case(
        get=p.SETTINGS_VIEW,
        post=p.SHOP_PROFILE_EDIT,
        data=lambda w: {"name": "Renamed", "primary_colour": "#0f766e"},
    ),
    "shop_settings:staff_invitation_revoke": Case(
        lambda w: {"pk": _invitation(w).pk}, post=p.STAFF_EDIT
    ),
    "shop_settings:profile_preview": Case(get=p.SETTINGS_VIEW),
    "shop_settings:profile_preview_frame": Case(get=p.SETTINGS_VIEW),
    "shop_settings:integrations": Case(get=p.SETTINGS_VIEW),
    "shop_settings:integration_shopify_secret": Case(
        post=p.INTEGRATION_EDIT, data=lambda w: {"shopify-secret": "s" * 32}
    ),
    "shop_settings:integration_carrier_secret": Case(
        lambda w: {"provider": "easypost"},
        post=p.INTEGRATION_EDIT,
        data=lambda w: {"easypost-secret": "e" * 32},
    ),
    "messaging:integration_email_test": Case(post=p.INTEGRATION_EDIT),
    "messaging:integration_text_test": Case(
        post=p.INTEGRATION_EDIT, data=lambda w: {"phone": "+14155550123"}
    ),
    "returns_dashboard:return_address": Case(
        post=p.RETURN_POLICY_EDIT, data=lambda w: {"return_address": "1 Tea Lane\nLeeds"}
    ),
    "shop_settings:sender": Case(
        get=p.SETTINGS_VIEW,
        post=p.INTEGRATION_EDIT,
        data=lambda w: {"from_name": "Acme", "from_address": "orders@acme.test", "reply_to": ""},
    ),
    "shop_settings:api_keys": Case(
        get=p.SETTINGS_VIEW, post=p.API_KEY_EDIT, data=lambda w: {"name": "Warehouse"}
    ),
    "shop_settings:api_key_revoke": Case(lambda w: {"pk": _api_key(w).pk}, post=p.API_KEY_EDIT),
    "loyalty_dashboard:overview": Case(get=p.DASHBOARD_VIEW),
    "loyalty_dashboard:start": Case(post=p.LOYALTY_SETTINGS),
    "loyalty_dashboard:members": Case(get=p.DASHBOARD_VIEW),
    "loyalty_dashboard:member": Case(lambda w: {"pk": w.member.pk}, get=p.DASHBOARD_VIEW),
    "loyalty_dashboard:member_adjust": Case(
        lambda w: {"pk": w.member.pk},
        post=p.LOYALTY_ADJUST,
        data=lambda w: {"points": "25", "reason": "Parcel arrived late", "key": "matrix-1"},
    ),
    "loyalty_dashboard:settings": Case(
        get=p.DASHBOARD_VIEW, post=p.LOYALTY_SETTINGS, data=lambda w: loyalty_rules_post(w.shop)
    ),
    "loyalty_dashboard:tiers": Case(
        post=p.LOYALTY_SETTINGS, data=lambda w: loyalty_tiers_post(w.shop)
    ),
    "loyalty_dashboard:rewards": Case(get=p.DASHBOARD_VIEW),
    "loyalty_dashboard:reward_add": Case(
        get=p.LOYALTY_SETTINGS,
        post=p.LOYALTY_SETTINGS,
        data=lambda w: loyalty_reward_post(w.shop, name="Tote bag voucher"),
    ),
    "loyalty_dashboard:reward": Case(
        lambda w: {"pk": _reward(w).pk},
        get=p.DASHBOARD_VIEW,
        post=p.LOYALTY_SETTINGS,
        data=lambda w: loyalty_reward_post(w.shop, _reward(w), points_price="450"),
    ),
    "loyalty_dashboard:reward_offer": Case(
        lambda w: {"pk": _reward(w).pk}, post=p.LOYALTY_SETTINGS, data=lambda w: {"offered": "0"}
    ),
    "loyalty_dashboard:reward_remove": Case(
        lambda w: {"pk": _reward(w).pk}, post=p.LOYALTY_SETTINGS
    ),
    "loyalty_dashboard:preview": Case(get=p.DASHBOARD_VIEW),
}


def _kw(w, spec: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    return {name: value(w) for name, value in spec.items()}


# The URLconf ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name, and for an action URL its slug: "messaging:message_action:retry"
    name: str
    view: type
    int_kwargs: tuple[str, ...] = field(default=())


def _patterns(
    patterns: list, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}", pattern


def dashboard_routes() -> list[Route]:
    """Every URL under /dashboard/, an action URL once per action its view declares."""
    routes = []
    for path, name, pattern in _patterns(get_resolver().url_patterns):
        if not path.startswith("dashboard/"):
            continue
        view = getattr(pattern.callback, "view_class", pattern.callback)
        converters = getattr(pattern.pattern, "converters", {})
        ints = tuple(k for k, c in converters.items() if type(c).__name__ == "IntConverter")
        if "action" in converters:
            slugs = list(getattr(view, "actions", {})) or ["<undeclared>"]
            routes += [Route(f"{name}:{slug}", name, view, ints) for slug in slugs]
        else:
            routes.append(Route(name, name, view, ints))
    return routes


ROUTES = dashboard_routes()


def test_the_matrix_walks_the_dashboard():
    assert len(ROUTES) >= len(CASES) > 30
    # A case whose URL is gone is a stale expectation.
    assert set(CASES) == {route.key for route in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_every_dashboard_view_declares_its_permission(route):
    assert issubclass(route.view, StaffPermissionMixin), (
        f"{route.view.__name__} is not a StaffPermissionMixin view"
    )
    declared = "permission" in vars(route.view) or "required_permission" in vars(route.view)
    assert declared, f"{route.view.__name__} declares no permission of its own"
    assert route.key in CASES, f"{route.key} is not in the access matrix"


# Requests ---------------------------------------------------------------------------------------


def _shop_data_fingerprint() -> str:
    """Every row of every model that holds shop data, hashed."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label not in APPS_WITH_SHOP_DATA:
            continue
        for row in model._default_manager.order_by("pk").values():
            # Binary fields come back as memoryviews, whose repr is their address.
            values = [(k, bytes(v) if isinstance(v, memoryview) else v) for k, v in row.items()]
            digest.update(repr(sorted(values)).encode())
    return digest.hexdigest()


def _user(w, visitor: str):
    return {
        OWNER: w.owner,
        MANAGER: w.manager,
        AGENT: w.agent,
        OTHER_OWNER: w.other_owner,
        ANONYMOUS: None,
    }[visitor]


def _expected(visitor: str, route: Route, case: Case, method: str) -> str:
    """'login', '404', '405', '403' or 'ok' (any 2xx/3xx that is not a login redirect)."""
    action = case.get if method == "GET" else case.post
    if visitor == ANONYMOUS:
        return "login"
    if action is None:
        return "405"
    if visitor == OTHER_OWNER:
        return "404" if route.int_kwargs or case.names_an_object else "elsewhere"
    return "ok" if p.role_allows(visitor, action) else "403"


def _answer(response) -> str:
    status = response.status_code
    if status == 302 and response.url.startswith(f"{reverse('login')}?next="):
        return "login"
    if status in (403, 404, 405):
        return str(status)
    if 200 <= status < 400:
        return "ok"
    return str(status)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_each_visitor_gets_what_the_policy_says(world, route):
    case = CASES.get(route.key)
    assert case is not None, f"{route.key} is not in the access matrix"
    url = reverse(route.name, kwargs=case.kwargs(world))
    # Every visitor's request is rolled back: each meets the shop as it is now.
    before = _shop_data_fingerprint()
    answers, expectations = {}, {}
    for method in ("GET", "POST"):
        for visitor in VISITORS:
            expected = _expected(visitor, route, case, method)
            with transaction.atomic():
                client = Client()
                user = _user(world, visitor)
                if user is not None:
                    client.force_login(user)
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, case.data(world))
                answer = _answer(response)
                if answer == "login":
                    assert response.url == f"{reverse('login')}?next={quote(url)}"
                if expected in ("login", "403", "404", "405"):
                    assert _shop_data_fingerprint() == before, f"{visitor} {method} changed data"
                if answer == "403":
                    assert "Only the shop" in response.content.decode()
                transaction.set_rollback(True)
            if expected == "elsewhere":
                # Another shop's owner, on a URL that names no object, works in their own shop.
                assert answer not in ("403", "500"), f"{visitor} {method}: {answer}"
                continue
            answers[f"{visitor} {method}"] = answer
            expectations[f"{visitor} {method}"] = expected
    assert answers == expectations
