"""Every page names its icon, served from this site: no 404 for /favicon.ico on any page."""

import re

import pytest
from django.urls import reverse

from tests.factories import OrderFactory, ShopFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
_ICON = re.compile(r'<link rel="icon"[^>]*href="(?P<href>[^"]+)"')


def _icons(html: str) -> list[str]:
    head = html.split("</head>", 1)[0]
    return [match["href"] for match in _ICON.finditer(head)]


def _served(client, href: str) -> bytes:
    response = client.get(href, follow=True)
    assert response.status_code == 200, href
    assert response["Content-Type"].startswith("image/"), href
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_dashboard_links_its_icon_served_here(client):
    user = UserFactory()
    StaffMembershipFactory(user=user, shop=ShopFactory())
    client.force_login(user)

    icons = _icons(client.get(reverse("dashboard:home")).content.decode())

    assert icons
    for href in icons:
        assert href.startswith("/static/")
        assert _served(client, href)


def test_the_customer_pages_link_their_icon_served_here(client):
    order = OrderFactory()

    icons = _icons(
        client.get(reverse("tracking:page", args=[order.tracking_token])).content.decode()
    )

    assert icons
    for href in icons:
        assert href.startswith("/static/")
        assert _served(client, href)


def test_favicon_ico_answers(client):
    assert _served(client, "/favicon.ico")
