"""No page has two elements with the same `id`: a label, a skip link or an aria reference
would point at the wrong one. Every dashboard page a GET reaches (from the URLconf, with the
objects of a shop that has one of everything) and every customer page."""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

import tests.access.test_dashboard_matrix as matrix
from feedback.tokens import order_token
from notifications.engine.links import preferences_token
from tests.access.world import make_world

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def duplicate_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(name for name, count in parser.ids.items() if count > 1)


def test_the_check_finds_a_duplicate():
    assert duplicate_ids('<p id="a"></p><div id="b"><span id="a"></span></div>') == ["a"]


_PAGES = [
    route
    for route in matrix.ROUTES
    if route.key in matrix.CASES and matrix.CASES[route.key].get is not None
]


@pytest.fixture
def world(db):
    return make_world()


@pytest.mark.parametrize("route", _PAGES, ids=lambda route: route.key)
def test_no_dashboard_page_repeats_an_id(client, world, route):
    client.force_login(world.owner)
    url = reverse(route.name, kwargs=matrix.CASES[route.key].kwargs(world))

    response = client.get(url, follow=True)  # an action answers a GET with its object's page

    assert response.status_code == 200, url
    if response["Content-Type"].startswith("text/html"):
        assert duplicate_ids(response.content.decode()) == [], url


def _customer_urls(world) -> list[str]:
    token, rma = world.order.tracking_token, world.return_request.rma
    return [
        reverse("tracking:page", args=[token]),
        reverse("tracking:problem", args=[token]),
        reverse("tracking:lookup"),
        reverse("returns:lookup"),
        reverse("returns:start", args=[token]),
        reverse("returns:detail", args=[token, rma]),
        reverse("returns:slip", args=[token, rma]),
        reverse("preferences", args=[preferences_token(world.customer.pk)]),
        reverse("feedback:review", args=[order_token(world.review.order)]),
    ]


def test_no_customer_page_repeats_an_id(client, world):
    for url in _customer_urls(world):
        response = client.get(url)

        assert response.status_code == 200, url
        assert duplicate_ids(response.content.decode()) == [], url
