"""Every URL the site answers carries its security headers: a Content-Security-Policy without
'unsafe-inline' (scripts and styles), `frame-ancestors 'none'` unless the view says who may frame
it, and the Permissions-Policy.

The test walks every pattern of the URLconf, so a new URL is checked the day it is added; when
its parameters cannot be filled from the objects made here, the test says so and fails."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from csp.middleware import CSPMiddleware
from django.contrib.admin.sites import site as admin_site
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from feedback.cases.services import case_resolve, open_case_for_signal
from feedback.cases.tokens import followup_token
from feedback.tokens import order_token
from loyalty.models import Reward
from notifications.dashboard.email_frame import email_preview_stash
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.templating import message_template_save
from notifications.models import Flow, Message, SuppressionReason
from notifications.services import MessageRequest, message_schedule, suppression_add
from orders.links import preferences_token
from orders.models import OrderStatus, Purpose, StaffRole
from orders.services.api_keys import api_key_create
from postpurchase.security import PER_RESPONSE
from returns.services import ItemChoice, return_request_create
from tests.access.world import held_review
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ProblemReportFactory,
    ShipmentFactory,
    StaffMembershipFactory,
    TrackingEventFactory,
    UserFactory,
    VariantFactory,
)
from tests.loyalty.dashboard_helpers import programme_with_member

pytestmark = pytest.mark.django_db

# Views that answer an email's HTML as the document of a sandboxed frame on our own pages
# (notifications.dashboard.email_frame): emails are styled inline, so these alone allow inline
# style, in a document that runs no script (`default-src 'none'`, `sandbox`).
EMAIL_FRAMES = {"messaging:message_email", "message_templates:preview_frame"}
REQUIRED_PERMISSIONS_OFF = ("camera", "microphone", "geolocation", "payment", "usb")


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    pattern: URLPattern

    @property
    def params(self) -> list[str]:
        return list(self.pattern.pattern.regex.groupindex)


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(prefix + str(entry.pattern), name, entry)


ALL_ROUTES = list(_routes(get_resolver().url_patterns))


def _fill(route: str, values: dict[str, Any]) -> str:
    """The path of a route (path converters and regex groups alike) with `values` put in."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    path = re.sub(r"\([^)]*\)\?", "", path)  # an optional unnamed group: left out
    return "/" + path.replace("^", "").replace("$", "").replace("\\.", ".")


@pytest.fixture
def world(shop):
    """One of everything a URL can name, in one shop."""
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    ops = UserFactory(is_staff=True, is_superuser=True)
    order = OrderFactory(
        shop=shop, status=OrderStatus.DELIVERED, delivered_at=timezone.now() - timedelta(days=2)
    )
    variant = VariantFactory(product__shop=shop, price=Decimal("40.00"))
    line = LineItemFactory(
        order=order, product=variant.product, variant=variant, unit_price=Decimal("40.00")
    )
    shipment = ShipmentFactory(order=order, status="delivered")
    TrackingEventFactory(shipment=shipment)
    report = ProblemReportFactory(order=order)
    returned = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk, quantity=1, reason_code="too_small", resolution="refund"
            )
        ],
        method="drop_off",
        submission_key="headers-walk",
    )[0]
    case = open_case_for_signal(
        shop=shop,
        customer=order.customer,
        order=order,
        source="survey",
        source_id=1,
        score=3,
        scale="nps",
    )
    assert case is not None
    resolution = case_resolve(case=case, actor=None, kind="apology")
    message, _ = message_schedule(
        request=MessageRequest(
            shop_id=shop.pk,
            customer_id=order.customer_id,
            order_id=order.pk,
            kind="order_confirmation",
            channel="email",
            purpose=Purpose.TRANSACTIONAL,
            recipient=order.email,
            about_type="order",
            about_id=order.pk,
            send_at=timezone.now() + timedelta(hours=1),
        )
    )
    Message.objects.filter(pk=message.pk).update(
        subject="Thanks", body_text="Thanks", body_html="<p style='color:#111'>Thanks</p>"
    )
    flows_ensure_defaults(shop_id=shop.pk)
    suppression, _ = suppression_add(
        shop_id=shop.pk,
        channel="email",
        address="gone@example.org",
        reason=SuppressionReason.MANUAL,
    )
    template = message_template_save(
        shop=shop,
        kind="order_confirmation",
        channel="email",
        locale="",
        subject="Order {{ order_number }}",
        body_text="Thanks",
        body_html="<p>Thanks</p>",
        whatsapp_content_sid="",
        actor=owner,
    )
    review = held_review(shop)
    reviewed = review.product
    member = programme_with_member(shop, order.customer, order)
    reward = Reward.objects.filter(shop=shop).order_by("pk").first()
    by_name: dict[str, dict[str, Any]] = {
        "feedback:review": {"token": order_token(review.order)},
        "feedback:reviews_json": {"shop": shop.slug, "product": reviewed.external_id},
        "feedback:review_widget": {"shop": shop.slug, "product": reviewed.external_id},
        "feedback:review_feed": {"shop": shop.slug},
        "feedback:review_photo": {"token": review.photos.get().token},
        "reviews_dashboard:detail": {"pk": review.pk},
        "reviews_dashboard:photo": {"pk": review.pk, "photo_id": review.photos.get().pk},
        "reviews_dashboard:action": {"pk": review.pk, "action": "publish"},
        "dashboard:order_detail": {"pk": order.pk},
        "dashboard:tracking_link_renew": {"pk": order.pk},
        "dashboard:problem_photo": {"pk": order.pk, "report_id": report.pk},
        "dashboard:problem_resolve": {"pk": order.pk, "report_id": report.pk},
        "messaging:message_detail": {"pk": message.pk},
        "messaging:message_email": {"pk": message.pk},
        "messaging:message_action": {"pk": message.pk, "action": "cancel"},
        "messaging:flow_edit": {"pk": Flow.objects.filter(shop=shop).first().pk},
        "messaging:suppression_remove": {"pk": suppression.pk},
        "messaging:customer_detail": {"pk": order.customer_id},
        "message_templates:preview_frame": {
            "token": email_preview_stash(shop=shop, html="<p style='color:#111'>Hi</p>")
        },
        "message_templates:reset": {"pk": template.pk},
        "returns_dashboard:detail": {"pk": returned.pk},
        "feedback_cases:detail": {"pk": case.pk},
        "feedback_cases:open_for_order": {"pk": order.pk},
        "feedback_cases:action": {"pk": case.pk, "action": "note"},
        "feedback_case:followup": {"token": followup_token(resolution.pk), "answer": "yes"},
        "returns_dashboard:action": {"pk": returned.pk, "action": "approve"},
        "returns_dashboard:item_photo": {"pk": returned.pk, "item_id": returned.items.first().pk},
        "api:order-detail": {"pk": order.pk},
        "api:order-cancel": {"pk": order.pk},
        "api:order-shipments": {"pk": order.pk},
        "api:shipment-detail": {"pk": shipment.pk},
        "api:shipment-tracking-events": {"pk": shipment.pk},
        "api:customer-detail": {"pk": order.customer_id},
        "preferences": {"token": preferences_token(order.customer_id)},
        "returns:detail": {"token": order.tracking_token, "rma": returned.rma},
        "returns:slip": {"token": order.tracking_token, "rma": returned.rma},
        "admin:view_on_site": {"content_type_id": 1, "object_id": "1"},
        "admin:auth_user_password_change": {"id": ops.pk},
        "shop_settings:staff_role": {"pk": owner.memberships.get().pk},
        "shop_settings:staff_remove": {"pk": owner.memberships.get().pk},
        "shop_settings:api_key_revoke": {"pk": api_key_create(shop=shop, name="ERP")[0].pk},
        "shop_settings:staff_invitation_revoke": {"pk": 1},
        "loyalty_dashboard:member": {"pk": member.pk},
        "loyalty_dashboard:member_adjust": {"pk": member.pk},
        "loyalty_dashboard:reward": {"pk": reward.pk},
        "loyalty_dashboard:reward_offer": {"pk": reward.pk},
        "loyalty_dashboard:reward_remove": {"pk": reward.pk},
        "loyalty_api:account": {"id": order.customer_id},
        "loyalty_api:adjustments": {"id": order.customer_id},
    }
    by_param = {
        "path": "no-such-endpoint/",
        "url": "no-such-page/",
        "token": order.tracking_token,
        "kind": "order_confirmation",
        "score": "9",
        "provider": "easypost",
        "key": "0f766e",
        "app_label": "orders",
        # A referral link's code (none open: the friendly 404 carries the headers too).
        "code": "NOSUCHCD",
    }
    return {"owner": owner, "ops": ops, "by_name": by_name, "by_param": by_param}


def _admin_object_id(route: Route) -> str:
    """A stored object of the model a ModelAdmin URL is about (or an id that names none: the
    admin's answer still carries the headers)."""
    model_admin = getattr(route.pattern.callback, "model_admin", None)
    model = model_admin.model if model_admin else None
    stored = model._default_manager.order_by("pk").first() if model else None
    return str(stored.pk) if stored else "0"


def _path(route: Route, world: dict[str, Any]) -> str:
    values = dict(world["by_name"].get(route.name, {}))
    for param in route.params:
        if param in values:
            continue
        if param == "object_id" and route.route.startswith("admin/"):
            values[param] = _admin_object_id(route)
        elif param in world["by_param"]:
            values[param] = world["by_param"][param]
        else:
            pytest.fail(f"No value for <{param}> of {route.name} ({route.route}): add one above")
    path = _fill(route.route, values)
    assert resolve(path).func == route.pattern.callback, f"{path} is not {route.route}"
    return path


def _directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


def _problems(route: Route, response: Any) -> list[str]:
    where = f"{route.name or route.route} ({response.request['PATH_INFO']})"
    # anymail answers 500 for a provider the settings do not configure (its own design: it
    # refuses to accept unverifiable events); only one provider is configured in a deployment.
    third_party = (route.name or "").startswith("anymail:")
    if response.status_code >= 500 and not third_party:
        return [f"{where}: answered {response.status_code}"]
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        return [f"{where}: no Content-Security-Policy"]
    problems = []
    directives = _directives(policy)
    scripts = directives.get("script-src", directives.get("default-src", []))
    styles = directives.get("style-src", directives.get("default-src", []))
    if "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
        problems.append(f"{where}: script-src allows inline or eval: {policy}")
    framable_by = getattr(route.pattern.callback, "framable_by", None)
    if route.name in EMAIL_FRAMES:
        if directives.get("default-src") != ["'none'"] or "sandbox" not in directives:
            problems.append(f"{where}: an email frame must run nothing: {policy}")
    elif "'unsafe-inline'" in styles:
        problems.append(f"{where}: style-src allows inline style: {policy}")
    if framable_by == PER_RESPONSE:
        # The view names who may frame each answer (the review widget: its shop's storefront).
        framable_by = getattr(response, "framed_by", ())
    expected_ancestors = list(framable_by) if framable_by else ["'none'"]
    if directives.get("frame-ancestors") != expected_ancestors:
        problems.append(f"{where}: frame-ancestors is not {expected_ancestors}: {policy}")
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in REQUIRED_PERMISSIONS_OFF:
        if f"{feature}=()" not in permissions:
            problems.append(f"{where}: Permissions-Policy does not turn off {feature}")
    return problems


@pytest.fixture
def walk(client, world):
    """GET every route of `routes` as the client is, and list what is missing."""
    # The admin's pages can be many; keep the connection (and the test's transaction) open
    # across them as Django's test client does for each request anyway.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    # A crash must show as a 500 with its headers (the handler's page), not as an exception.
    client.raise_request_exception = False

    def run(routes: list[Route]) -> list[str]:
        problems = []
        for route in routes:
            response = client.get(_path(route, world))
            problems += _problems(route, response)
        return problems

    yield run
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# anymail warns about the providers its URLs serve (deprecated names, no webhook secret set).
@pytest.mark.filterwarnings("ignore::Warning:anymail.*")
def test_every_url_answers_an_anonymous_visitor_with_the_security_headers(walk):
    assert len(ALL_ROUTES) > 250  # the walk reaches the admin's and anymail's URLs too

    assert walk(ALL_ROUTES) == []


def test_every_dashboard_url_answers_a_shop_owner_with_the_security_headers(client, world, walk):
    client.force_login(world["owner"])
    dashboard = [r for r in ALL_ROUTES if r.route.startswith("dashboard/")]

    assert len(dashboard) > 20
    assert walk(dashboard) == []


def test_every_admin_url_answers_ops_with_the_security_headers(client, world, walk):
    client.force_login(world["ops"])
    admin = [r for r in ALL_ROUTES if r.route.startswith("admin/")]

    assert len(admin) == len(list(_routes(admin_site.urls[0])))
    assert walk(admin) == []


def test_the_policy_forbids_inline_code_and_framing_and_allows_only_our_own_assets(client):
    response = client.get("/track/")

    directives = _directives(response["Content-Security-Policy"])
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert re.fullmatch(r"([a-z-]+=\(\)(, )?)+", response["Permissions-Policy"])


def test_a_page_that_reads_the_nonce_gets_it_in_its_policy(rf):
    request = rf.get("/")
    middleware = CSPMiddleware(lambda r: HttpResponse(f"<style nonce='{r.csp_nonce}'>"))

    response = middleware(request)

    nonce = re.search(r"nonce='([^']+)'", response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in _directives(response["Content-Security-Policy"])["style-src"]
