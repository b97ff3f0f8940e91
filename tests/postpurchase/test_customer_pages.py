"""Every customer page sends the same headers, from one helper
(`postpurchase.shell.customer.customer_page_headers`) and the project's middleware, whichever
app serves it: tracking, the order lookup, problem reports, the returns portal, preferences.

The pages come from the URLconf: every URL outside the dashboard, admin, API, webhooks,
sign-in and health checks is a customer page, so a new one (feedback, loyalty) is checked the
day it is added; when its parameters cannot be filled from the objects made here, the test
says so and fails. Each is requested for a real order and, where it takes a token, for one
that names nothing (its not-found page is a customer page too)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from feedback.cases.services import case_resolve, open_case_for_signal
from feedback.cases.tokens import followup_token
from feedback.models import SurveyRequest
from feedback.surveys.services import survey_answer_record
from feedback.tokens import order_token
from loyalty.models import Programme
from loyalty.tokens import loyalty_token
from orders.links import preferences_token
from orders.models import OrderStatus
from returns.services import ItemChoice, return_request_create
from tests.factories import LineItemFactory, OrderFactory, ShipmentFactory, VariantFactory

pytestmark = pytest.mark.django_db

# Staff, ops, machines, the root's redirect to the dashboard and the site's icon: not customer
# pages.
NOT_CUSTOMER = ("", "dashboard/", "admin/", "api/", "webhooks/", "accounts/", "healthz", "readyz")
NOT_CUSTOMER += ("favicon.ico",)
# The shop's colours: a public stylesheet, the same for everyone and cached for a year.
NOT_PAGES = {"tracking:brand_stylesheet"}
# A survey email's one-tap link: it records the score and redirects to the survey's page.
NOT_PAGES |= {"feedback:score"}
# What storefronts show of published reviews: public, about no one, cached by anyone, and (the
# widget) framed by the shop's own site; their headers are tested in tests/feedback/.
NOT_PAGES |= {"feedback:reviews_json", "feedback:review_widget", "feedback:review_photo"}
NOT_PAGES |= {"feedback:review_feed"}
# The loyalty page's redeem button: a POST that redirects to the page (tested in tests/loyalty/).
NOT_PAGES |= {"loyalty:redeem"}
# The tracking page (and its polled fragment) carries an ETag: the browser may keep it.
REVALIDATED = {"tracking:page", "tracking:shipments"}
# Pages whose form posts back: same-origin, or browsers POST with `Origin: null`.
WITH_FORM = {"tracking:lookup", "tracking:problem", "returns:lookup", "returns:start"}
WITH_FORM |= {"returns:detail", "preferences", "feedback:survey", "feedback:review"}
WITH_FORM |= {"loyalty:page"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str

    @property
    def params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(prefix + str(entry.pattern), name or prefix + str(entry.pattern))


def _is_customer_page(route: Route) -> bool:
    if route.name in NOT_PAGES or route.route.startswith("bench/"):
        return False
    return not any(
        route.route == prefix or (prefix and route.route.startswith(prefix))
        for prefix in NOT_CUSTOMER
    )


CUSTOMER_PAGES = [
    route for route in _routes(get_resolver().url_patterns) if _is_customer_page(route)
]


def test_the_walk_finds_the_customer_pages_of_every_app():
    names = {route.name for route in CUSTOMER_PAGES}

    assert {"tracking:lookup", "tracking:page", "tracking:problem"} <= names
    assert {"returns:lookup", "returns:start", "returns:detail", "returns:slip"} <= names
    assert "preferences" in names
    assert "feedback:review" in names


@pytest.fixture
def world(shop) -> dict[str, str]:
    """The values every customer URL's parameters take, for one delivered order."""
    order = OrderFactory(
        shop=shop,
        status=OrderStatus.DELIVERED,
        delivered_at=timezone.now() - timezone.timedelta(days=2),
    )
    variant = VariantFactory(product__shop=shop, price=Decimal("40.00"))
    line = LineItemFactory(
        order=order, product=variant.product, variant=variant, unit_price=Decimal("40.00")
    )
    ShipmentFactory(order=order, status="delivered")
    returned, _ = return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk, quantity=1, reason_code="too_small", resolution="refund"
            )
        ],
        method="drop_off",
        submission_key="customer-pages-walk",
    )
    survey = SurveyRequest.objects.create(
        shop=shop, order=order, customer=order.customer, kind="nps", due_at=timezone.now()
    )
    survey_answer_record(request=survey, score=7, channel="email")
    case = open_case_for_signal(
        shop=shop, customer=order.customer, source="review", source_id=1, score=1, scale="stars"
    )
    assert case is not None
    resolution = case_resolve(case=case, actor=None, kind="apology")
    Programme.objects.create(shop=shop)
    return {
        "token": order.tracking_token,
        "rma": returned.rma,
        "preferences:token": preferences_token(order.customer_id),
        "feedback:survey:token": order_token(order),
        "feedback:review:token": order_token(order),
        "feedback_case:followup:token": followup_token(resolution.pk),
        "feedback_case:followup:answer": "yes",
        "loyalty:page:token": loyalty_token(order.customer),
    }


def _path(route: Route, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        param = match.group(1)
        key = f"{route.name}:{param}"
        if key not in values and param not in values:
            pytest.fail(f"{route.name} ({route.route}): no value for <{param}>; add one to world")
        return values.get(key, values.get(param, ""))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route.route)


def _requests(route: Route, world: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(what, path): the page for the order, and for a token that names nothing."""
    yield "page", _path(route, world)
    if route.params:
        nothing = dict.fromkeys(world, "no-such-thing-0000")
        yield "not found", _path(route, nothing)


def _directives(response: HttpResponse) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _meta(html: str, name: str) -> str | None:
    found = re.search(rf'<meta name="{name}" content="([^"]*)">', html)
    return found.group(1) if found else None


@pytest.mark.parametrize("route", CUSTOMER_PAGES, ids=lambda route: route.name)
def test_every_customer_page_sends_the_same_headers(client, world, route):
    for what, path in _requests(route, world):
        response = client.get(path)
        where = f"{route.name} ({what}): GET {path} → {response.status_code}"
        assert response.status_code in (200, 404), where

        kept = "no-cache" if route.name in REVALIDATED and what == "page" else "no-store"
        assert _directives(response) == {"private", kept}, where
        assert response["X-Robots-Tag"] == "noindex, nofollow", where
        form = route.name in WITH_FORM and what == "page"
        assert response["Referrer-Policy"] == ("same-origin" if form else "no-referrer"), where
        assert response["Content-Language"], where
        assert response["X-Frame-Options"] == "DENY", where
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], where
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], where
        assert "camera=()" in response["Permissions-Policy"], where
        assert response["X-Content-Type-Options"] == "nosniff", where
        if (
            response["Content-Type"].startswith("text/html")
            and "<html" in response.content.decode()
        ):
            html = response.content.decode()
            # The page's own tags say what its headers say.
            assert _meta(html, "referrer") == response["Referrer-Policy"], where
            assert _meta(html, "robots") == "noindex, nofollow", where


def test_a_lookups_answer_sends_them_too(client, world):
    response = client.post("/track/", {"number": "#0000", "contact": "nobody@example.org"})

    assert response.status_code == 200
    assert _directives(response) == {"private", "no-store"}
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
