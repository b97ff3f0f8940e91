"""Sign-in throttling on the staff login and the admin login: an account is locked for an
address after a few failures from it, an address for every account after more, until the
cool-off has passed or ops unlock it; the lockout page says when to try again."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # the factory's
STAFF_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
HOME = "127.0.0.1"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def limits(settings):
    """The defaults, stated here so the tests read on their own."""
    settings.SIGNIN_ACCOUNT_FAILURES = settings.AXES_FAILURE_LIMIT = 5
    settings.SIGNIN_ADDRESS_FAILURES = 20
    settings.SIGNIN_LOCKOUT_LIMITS = [5, 20]
    settings.AXES_RESET_ON_SUCCESS = True


def _user(name: str = "ada"):
    # Staff, so the admin login accepts the account when the password is right.
    return UserFactory(username=name, is_staff=True)


def _sign_in(url: str, username: str, password: str, address: str = HOME, **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(url, {"username": username, "password": password, "next": "/"})
    return client, response


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _fail(url: str, username: str, times: int, address: str = HOME, **headers) -> list[int]:
    return [
        _sign_in(url, username, "wrong-password", address, **headers)[1].status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("url", [STAFF_LOGIN, ADMIN_LOGIN])
def test_thirty_wrong_passwords_lock_the_account_and_the_right_one_then_fails(url):
    _user()

    statuses = _fail(url, "ada", 30)
    client, response = _sign_in(url, "ada", PASSWORD)

    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}  # the fifth failure locks
    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_lockout_page_says_when_to_try_again_and_how_to_be_unlocked(settings):
    _user()
    _fail(STAFF_LOGIN, "ada", 5)

    _, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Try again in 15 minutes" in html
    assert "unlock your account" in html
    assert "<script" not in html.split("</head>")[1]
    assert "style=" not in html


def test_an_account_locked_at_one_address_still_signs_in_from_another():
    _user()
    _fail(STAFF_LOGIN, "ada", 5)

    client, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD, address=ELSEWHERE)

    assert response.status_code == 302
    assert _signed_in(client)


def test_another_account_at_the_same_address_is_not_locked_by_one_accounts_failures():
    _user()
    _user("grace")
    _fail(STAFF_LOGIN, "ada", 5)

    client, response = _sign_in(STAFF_LOGIN, "grace", PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_an_address_trying_many_accounts_is_locked_for_every_account():
    _user("grace")
    # Four wrong passwords on each of five accounts: none reaches its own limit; the
    # twentieth failure from the address locks the address.
    statuses = [s for name in ("a1", "a2", "a3", "a4", "a5") for s in _fail(STAFF_LOGIN, name, 4)]
    assert statuses == [200] * 19 + [429]

    client, response = _sign_in(STAFF_LOGIN, "grace", PASSWORD)
    _, elsewhere = _sign_in(STAFF_LOGIN, "grace", PASSWORD, address=ELSEWHERE)

    assert response.status_code == 429
    assert not _signed_in(client)
    assert elsewhere.status_code == 302


def test_ops_unlock_an_account_in_admin(admin_client):
    _user()
    _fail(STAFF_LOGIN, "ada", 30)
    attempts = list(AccessAttempt.objects.filter(username="ada").values_list("pk", flat=True))

    page = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    admin_client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    client, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    assert page.status_code == 200
    assert "ada" in page.content.decode()
    assert response.status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize(
    ("command", "argument"), [("axes_reset_username", "ada"), ("axes_reset_ip", HOME)]
)
def test_ops_unlock_with_axes_reset_commands(command, argument):
    _user()
    _fail(STAFF_LOGIN, "ada", 30)

    call_command(command, argument)
    client, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_a_successful_sign_in_forgives_that_accounts_failures():
    _user()
    _fail(STAFF_LOGIN, "ada", 4)
    _, first = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    again = _fail(STAFF_LOGIN, "ada", 4)
    client, second = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    assert first.status_code == 302
    assert again == [200] * 4
    assert second.status_code == 302
    assert _signed_in(client)


def test_without_reset_on_success_failures_keep_counting(settings):
    settings.AXES_RESET_ON_SUCCESS = False
    _user()
    _fail(STAFF_LOGIN, "ada", 4)
    _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    again = _fail(STAFF_LOGIN, "ada", 1)
    _, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    assert again == [429]  # the fifth failure locks
    assert response.status_code == 429


def test_a_success_does_not_forgive_the_addresss_failures_on_other_accounts():
    _user()
    for name in ("a1", "a2", "a3", "a4"):
        _fail(STAFF_LOGIN, name, 4)
    _fail(STAFF_LOGIN, "a5", 3)  # 19 from this address

    _, success = _sign_in(STAFF_LOGIN, "ada", PASSWORD)
    last = _fail(STAFF_LOGIN, "a5", 1)
    _, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD)

    assert success.status_code == 302
    assert last == [429]  # the twentieth locks the address
    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_get_round_the_limit():
    """With no proxy of ours declared, X-Forwarded-For is the client's own writing."""
    _user()
    statuses = [
        _sign_in(STAFF_LOGIN, "ada", "wrong-password", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")[
            1
        ].status_code
        for n in range(10)
    ]

    assert statuses[4:] == [429] * 6


def test_behind_a_declared_proxy_the_forwarded_client_is_counted(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _user()
    _fail(STAFF_LOGIN, "ada", 5, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")

    _, locked = _sign_in(
        STAFF_LOGIN, "ada", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    _, other = _sign_in(
        STAFF_LOGIN, "ada", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8"
    )

    assert locked.status_code == 429
    assert other.status_code == 302
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


def test_an_ipv6_client_is_counted_by_its_slash_64():
    _user()
    _fail(STAFF_LOGIN, "ada", 5, address="2001:db8:1:2::10")

    _, response = _sign_in(STAFF_LOGIN, "ada", PASSWORD, address="2001:db8:1:2::99")

    assert response.status_code == 429


def test_signing_in_from_code_needs_the_request(client, rf):
    """axes throttles by request, so `Client.login` takes one (force_login needs none)."""
    _user()

    assert client.login(request=rf.post(STAFF_LOGIN), username="ada", password=PASSWORD)
    assert get_user_model().objects.get(username="ada").last_login is not None
