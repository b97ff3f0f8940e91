"""Every merchant and customer page, found in the URLconf, opened in Chromium at 360 px and at
1280 px: it answers 200, never scrolls sideways, axe-core finds nothing serious or critical,
and the browser asks no other host for anything.

The pages are not listed by hand: every URL under the dashboard and the customer pages' prefixes
is a case, its parameters filled from one shop with one of everything (`tests.access.world`). A
new page is checked from the day it is added; a URL this file cannot fill fails until it says
how (`PARAMETERS`) or why it is not a page (`NOT_PAGES`)."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Page, Request

from feedback.cases.services import case_resolve
from feedback.cases.tokens import followup_token
from feedback.models import SurveyRequest
from feedback.surveys.services import survey_answer_record
from feedback.tokens import order_token
from loyalty.models import Programme
from loyalty.tokens import loyalty_token
from orders.links import preferences_path
from orders.models import StaffInvitation, StaffRole
from orders.shop_settings.staff import INVITATION_VALID_FOR, invitation_token
from tests.access.test_dashboard_matrix import CASES, _patterns
from tests.access.world import make_world
from tests.browser.test_pages_policy import sign_in
from tests.loyalty.factories import RewardFactory, TierFactory
from tests.loyalty.page_helpers import member_with_history

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = ({"width": 360, "height": 740}, {"width": 1280, "height": 800})
# Where the people's pages live: the merchant's dashboard and what customers open.
MERCHANT_PREFIX = "dashboard/"
CUSTOMER_PREFIXES = ("track/", "returns/", "preferences/", "accounts/", "feedback/", "loyalty/")

# URLs that are no page of their own, and why.
NOT_PAGES = {
    "dashboard:problem_photo": "a photo",
    "returns_dashboard:item_photo": "a photo",
    "reviews_dashboard:photo": "a photo",
    "feedback:review_photo": "a photo",
    "feedback:reviews_json": "JSON for storefronts",
    "feedback:review_feed": "the review feed's XML, for Google",
    "messaging:message_email": "the sent email, shown in the message page's frame",
    "message_templates:preview_frame": "a draft email, shown in the editor's frame",
    "tracking:brand_stylesheet": "a stylesheet",
    "shop_settings:profile_preview_frame": "the frame the profile page swaps in as you type",
    "tracking:shipments": "the parcels block the tracking page refreshes itself with",
    "logout": "a POST that signs out and redirects",
    "feedback:score": "a survey email's one-tap link: records the score, redirects to the survey",
    "loyalty:redeem": "the redeem button's POST: spends points, redirects to the loyalty page",
}

# How to fill a customer page's parameters from the world's objects.
PARAMETERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "login": lambda w: {},
    "staff_invitation:accept": lambda w: {"token": invitation_token(_invitation(w))},
    "tracking:lookup": lambda w: {},
    "tracking:page": lambda w: {"token": w.order.tracking_token},
    "tracking:problem": lambda w: {"token": w.order.tracking_token},
    "returns:lookup": lambda w: {},
    "returns:start": lambda w: {"token": w.order.tracking_token},
    "returns:detail": lambda w: {"token": w.order.tracking_token, "rma": w.return_request.rma},
    "returns:slip": lambda w: {"token": w.order.tracking_token, "rma": w.return_request.rma},
    "feedback:survey": lambda w: {"token": _answered_survey_token(w)},
    "feedback:review": lambda w: {"token": order_token(w.review.order)},
    "feedback_case:followup": lambda w: {"token": _followup_token(w), "answer": "yes"},
    "loyalty:page": lambda w: {"token": _loyalty_token(w)},
    "feedback:review_widget": lambda w: {
        "shop": w.shop.slug,
        "product": w.review.product.external_id,
    },
}


def _answered_survey_token(world: Any) -> str:
    """The survey page as a customer lands on it after one tap: thanks, and why?"""
    survey = SurveyRequest.objects.create(
        shop=world.shop,
        order=world.order,
        customer=world.order.customer,
        kind="nps",
        due_at=timezone.now(),
        status="sent",
    )
    survey_answer_record(request=survey, score=6, channel="email")
    return order_token(world.order)


def _loyalty_token(world: Any) -> str:
    """The loyalty page of a member with a history, a reward within reach, a tier to climb to
    and a referral link."""
    shop = world.shop
    Programme.objects.get_or_create(shop=shop)
    TierFactory(shop=shop, name="Silver", rank=0)
    TierFactory(shop=shop, name="Gold", rank=1, threshold=500)
    RewardFactory(shop=shop, name="5 USD off", points_price=100)
    RewardFactory(shop=shop, name="Free shipping", points_price=5000)
    member = member_with_history(shop)
    return loyalty_token(member.customer)


def _followup_token(world: Any) -> str:
    """The "did we make it right?" page as a customer lands on it from the follow-up's link."""
    resolution = case_resolve(case=world.case, actor=world.owner, kind="apology")
    return followup_token(resolution.pk)


def _invitation(world: Any) -> StaffInvitation:
    return StaffInvitation.objects.create(
        shop=world.shop,
        email="new.colleague@example.org",
        role=StaffRole.AGENT,
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )


def _merchant_gets(name: str) -> list[str]:
    """The matrix's cases of a dashboard URL that answer a GET (an action URL: one per action)."""
    return [
        key
        for key, case in CASES.items()
        if (key == name or key.startswith(f"{name}:")) and case.get is not None
    ]


def _page_urls() -> list[tuple[str, bool]]:
    """(URL name, whether a signed-in merchant sees it) for every GET page of the URLconf."""
    pages: list[tuple[str, bool]] = []
    for path, name, _pattern in _patterns(get_resolver().url_patterns):
        merchant = path.startswith(MERCHANT_PREFIX)
        if not merchant and not path.startswith(CUSTOMER_PREFIXES):
            continue
        if name in NOT_PAGES or (name, merchant) in pages:
            continue
        if merchant and not _merchant_gets(name):
            continue  # an action: it takes a POST and answers with a redirect
        pages.append((name, merchant))
    return pages


PAGES = _page_urls()


def _url(name: str, merchant: bool, world: Any) -> list[str]:
    if not merchant:
        if name == "preferences":
            return [preferences_path(world.customer.pk)]
        assert name in PARAMETERS, f"{name}: say how to fill it in PARAMETERS, or why in NOT_PAGES"
        return [reverse(name, kwargs=PARAMETERS[name](world))]
    urls = []
    for key in _merchant_gets(name):
        kwargs = CASES[key].kwargs(world)
        urls.append(reverse(name, kwargs=kwargs))
    return urls


def test_the_check_walks_every_page():
    names = {name for name, _merchant in PAGES}
    assert {"dashboard:home", "returns_dashboard:policy", "tracking:page", "returns:start"} <= names
    assert len(PAGES) > 25


def _blocking(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize(("name", "merchant"), PAGES, ids=[name for name, _m in PAGES])
def test_every_page_fits_a_phone_and_a_desktop_passes_axe_and_stays_home(
    live_server, page: Page, name: str, merchant: bool
):
    world = make_world()
    urls = _url(name, merchant, world)
    if merchant:
        sign_in(page, live_server, world.owner)
    home = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []

    def heard(request: Request) -> None:
        host = urlsplit(request.url).netloc
        if request.url.startswith(("http:", "https:")) and host != home:
            elsewhere.append(request.url)

    page.on("request", heard)
    problems: list[str] = []
    for url in urls:
        for size in WIDTHS:
            page.set_viewport_size(size)
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None
            if response.status != 200:
                problems.append(f"{url} at {size['width']} px: HTTP {response.status}")
                continue
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > size["width"]:
                problems.append(f"{url} at {size['width']} px: {width} px wide")
            problems += [f"{url} at {size['width']} px: {v}" for v in _blocking(page)]

    assert elsewhere == [], "requests to another host"
    assert problems == [], "\n".join(problems)
