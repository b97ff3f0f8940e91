"""Every dashboard page, found in the URLconf as the browser walk finds it, is built from the
kit: it opens with the kit's page header (one h1, at most one filled button beside it) and
shows statuses as chips, never the retired badge and figure markup. A new page that hand-rolls
its header fails here the day it is added."""

import re
from html.parser import HTMLParser

import pytest

from tests.access.world import make_world
from tests.browser.test_every_page import PAGES, _url

pytestmark = pytest.mark.django_db

# The profile preview is the customer's tracking page shown inside a frame on the settings
# page: a customer page, built from the customer sheet, not a dashboard page.
NOT_DASHBOARD_PAGES = {"shop_settings:profile_preview"}
MERCHANT_PAGES = [name for name, merchant in PAGES if merchant]
DASHBOARD_PAGES = [name for name in MERCHANT_PAGES if name not in NOT_DASHBOARD_PAGES]
# Markup the kit replaced: the per-status badge colours and the overview's old figure list.
RETIRED = re.compile(r'class="[^"]*\b(badge--(?!plain\b)[a-z_]+|stat__hint|stat--alert)\b')


class _Header(HTMLParser):
    """The page header's h1s and filled buttons, and every h1 on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # >0 while inside .page-head
        self.headers = 0
        self.h1s = 0
        self.filled_in_header = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
            if tag == "a" and classes == ["button"]:
                self.filled_in_header += 1
        elif "page-head" in classes:
            self.depth = 1
            self.headers += 1
        if tag == "h1":
            self.h1s += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1


def test_the_walk_covers_the_dashboard():
    assert len(MERCHANT_PAGES) >= 30
    assert {"dashboard:home", "returns_dashboard:queue", "messaging:message_list"} <= set(
        MERCHANT_PAGES
    )


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_every_dashboard_page_opens_with_the_kits_header(client, name):
    world = make_world()
    client.force_login(world.owner)
    for url in _url(name, True, world):
        # A GET that redirects (a message that cannot be sent now) is judged by where it lands.
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        header = _Header()
        header.feed(html)
        assert header.headers == 1, f"{url}: include components/page_header.html once"
        assert header.h1s == 1, f"{url}: one h1, the page header's"
        assert header.filled_in_header <= 1, f"{url}: one primary action at most"
        assert not RETIRED.search(html), f"{url}: {RETIRED.search(html).group(1)}"
