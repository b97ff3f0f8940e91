"""Where signing in lands: a shop's staff on the dashboard, ops (no shop of their own) on the
admin, and a user who belongs to no shop on a page that says so, never a debug page."""

import pytest
from django.urls import reverse

from tests.factories import ShopFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pass-word-123"


def sign_in(client, user):
    return client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}])
def test_an_ops_user_without_a_shop_lands_on_the_admin(client, debug, flags):
    ops = UserFactory(**flags)

    response = sign_in(client, ops)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert b"URLconf" not in response.content


def test_a_user_of_no_shop_is_told_so_with_a_way_to_sign_out(client, debug):
    nobody = UserFactory()

    response = sign_in(client, nobody)

    html = response.content.decode()
    assert response.status_code == 403
    assert "URLconf" not in html
    assert "Page not found" not in html
    assert "not a member of any shop" in html
    assert f'action="{reverse("logout")}"' in html


def test_a_user_of_no_shop_gets_the_same_page_on_any_dashboard_page(client, debug):
    client.force_login(UserFactory())

    response = client.get(reverse("dashboard:order_list"))

    assert response.status_code == 403
    assert "not a member of any shop" in response.content.decode()


def test_a_shops_staff_member_lands_on_the_dashboard(client, debug):
    staff = UserFactory()
    StaffMembershipFactory(user=staff, shop=ShopFactory())

    response = sign_in(client, staff)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dashboard:home")


def test_an_ops_user_who_is_also_a_shops_staff_member_lands_on_the_dashboard(client, debug):
    ops = UserFactory(is_staff=True)
    StaffMembershipFactory(user=ops, shop=ShopFactory())

    response = sign_in(client, ops)

    assert response.redirect_chain[-1][0] == reverse("dashboard:home")
