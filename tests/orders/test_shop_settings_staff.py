"""Staff and roles in the settings area: invitations, role changes, removals, the last owner."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from orders.models import SettingsChange, StaffInvitation, StaffMembership, StaffRole
from orders.shop_settings.staff import (
    StaffChangeRefused,
    staff_invitation_revoke,
    staff_invite,
    staff_member_remove,
    staff_role_change,
)
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import ShopFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER)


@pytest.fixture
def manager(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER)


def _invite(shop, owner, django_capture_on_commit_callbacks, **fields):
    values = {"email": "New.Hire@Example.org", "role": StaffRole.MANAGER} | fields
    with django_capture_on_commit_callbacks(execute=True):
        return staff_invite(shop_id=shop.pk, actor=owner.user, **values)


def _link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitations/\S+/)", message.body).group(1)


def test_an_invitation_is_emailed_with_a_link_that_makes_a_new_account_a_member(
    client, shop, owner, django_capture_on_commit_callbacks
):
    _invite(shop, owner, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.hire@example.org"]
    path = _link_path(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200
    assert "Choose a password" in page.content.decode()

    response = client.post(
        path, {"password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"}
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    member = StaffMembership.objects.get(shop=shop, user__email="new.hire@example.org")
    assert member.role == StaffRole.MANAGER
    assert member.user.check_password("a-long-passphrase-9")
    # Signed in: the dashboard opens.
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_an_existing_account_signs_in_and_joins_with_the_invited_role(
    client, shop, owner, django_capture_on_commit_callbacks
):
    existing = UserFactory(email="new.hire@example.org")
    _invite(shop, owner, django_capture_on_commit_callbacks, role=StaffRole.AGENT)
    path = _link_path(mail.outbox[0])
    assert "sign in" in client.get(path).content.decode()

    client.force_login(existing)
    response = client.post(path)

    assert response.status_code == 302
    assert StaffMembership.objects.get(shop=shop, user=existing).role == StaffRole.AGENT


def test_an_invitation_link_works_once(client, shop, owner, django_capture_on_commit_callbacks):
    _invite(shop, owner, django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])
    passwords = {"password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"}
    client.post(path, passwords)
    client.logout()

    again = client.post(path, passwords)

    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert StaffMembership.objects.filter(shop=shop).count() == 2


def test_an_invitation_expires_after_seven_days(
    client, shop, owner, django_capture_on_commit_callbacks
):
    _invite(shop, owner, django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = client.get(path)
        response = client.post(
            path, {"password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"}
        )

    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email="new.hire@example.org").exists()


def test_a_tampered_link_is_refused(client, shop, owner, django_capture_on_commit_callbacks):
    _invite(shop, owner, django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])

    page = client.get(path[:-3] + "xx/")

    assert page.status_code == 410
    assert "not valid" in page.content.decode()


def test_a_revoked_invitation_link_gets_the_page_an_expired_one_does(
    client, shop, owner, django_capture_on_commit_callbacks
):
    sent = _invite(shop, owner, django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])
    client.force_login(owner.user)
    staff_page = client.get(reverse("shop_settings:staff")).content.decode()
    revoke_url = reverse("shop_settings:staff_invitation_revoke", args=[sent.invitation.pk])
    assert f'action="{revoke_url}"' in staff_page

    response = client.post(revoke_url, follow=True)

    assert "The invitation to new.hire@example.org is revoked" in response.content.decode()
    change = SettingsChange.objects.filter(action="staff.invitation_revoked").get()
    assert (change.actor, change.subject) == (owner.user, "new.hire@example.org")
    assert "staff.invitation_revoked · new.hire@example.org" in response.content.decode()
    assert revoke_url not in response.content.decode()  # no longer listed as open
    client.logout()
    page = client.get(path)
    joined = client.post(
        path, {"password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"}
    )
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()
    assert 'class="notice notice--error"' in page.content.decode()
    assert joined.status_code == 400
    assert not get_user_model().objects.filter(email="new.hire@example.org").exists()


def test_only_an_owner_revokes_and_a_used_invitation_cannot_be(
    client, shop, owner, manager, django_capture_on_commit_callbacks
):
    sent = _invite(shop, owner, django_capture_on_commit_callbacks)
    with pytest.raises(StaffPermissionDenied):
        staff_invitation_revoke(
            shop_id=shop.pk, actor=manager.user, invitation_id=sent.invitation.pk
        )
    client.force_login(manager.user)
    url = reverse("shop_settings:staff_invitation_revoke", args=[sent.invitation.pk])
    assert client.post(url).status_code == 403
    assert f'action="{url}"' not in client.get(reverse("shop_settings:staff")).content.decode()

    StaffInvitation.objects.filter(pk=sent.invitation.pk).update(accepted_at=timezone.now())
    with pytest.raises(StaffChangeRefused):
        staff_invitation_revoke(shop_id=shop.pk, actor=owner.user, invitation_id=sent.invitation.pk)
    assert StaffInvitation.objects.get(pk=sent.invitation.pk).revoked_at is None


def test_another_shops_invitation_is_a_404_to_revoke(
    client, shop, owner, django_capture_on_commit_callbacks
):
    sent = _invite(shop, owner, django_capture_on_commit_callbacks)
    outsider = StaffMembershipFactory(shop=ShopFactory(), role=StaffRole.OWNER).user
    client.force_login(outsider)

    response = client.post(
        reverse("shop_settings:staff_invitation_revoke", args=[sent.invitation.pk])
    )

    assert response.status_code == 404
    assert StaffInvitation.objects.get(pk=sent.invitation.pk).revoked_at is None


def test_a_manager_cannot_invite_or_grant_owner(shop, manager):
    with pytest.raises(StaffPermissionDenied):
        staff_invite(
            shop_id=shop.pk, actor=manager.user, email="boss@example.org", role=StaffRole.OWNER
        )
    other = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT)
    with pytest.raises(StaffPermissionDenied):
        staff_role_change(
            shop_id=shop.pk, actor=manager.user, membership_id=other.pk, role=StaffRole.OWNER
        )

    other.refresh_from_db()
    assert other.role == StaffRole.AGENT
    assert not StaffInvitation.objects.exists()
    assert not SettingsChange.objects.exists()


def test_an_owner_changes_a_role_and_the_change_is_recorded(shop, owner, manager):
    staff_role_change(
        shop_id=shop.pk, actor=owner.user, membership_id=manager.pk, role=StaffRole.AGENT
    )

    manager.refresh_from_db()
    assert manager.role == StaffRole.AGENT
    change = SettingsChange.objects.get()
    assert (change.action, change.subject) == ("staff.role_changed", manager.user.email)
    assert change.actor == owner.user
    assert change.changes == {"role": ["manager", "agent"]}


def test_an_owner_removes_a_member(shop, owner, manager):
    staff_member_remove(shop_id=shop.pk, actor=owner.user, membership_id=manager.pk)

    assert not StaffMembership.objects.filter(pk=manager.pk).exists()
    assert get_user_model().objects.filter(pk=manager.user.pk).exists()
    assert SettingsChange.objects.get().action == "staff.removed"


def test_the_last_owner_can_be_neither_demoted_nor_removed(shop, owner):
    with pytest.raises(StaffChangeRefused, match="only owner"):
        staff_role_change(
            shop_id=shop.pk, actor=owner.user, membership_id=owner.pk, role=StaffRole.MANAGER
        )
    with pytest.raises(StaffChangeRefused, match="only owner"):
        staff_member_remove(shop_id=shop.pk, actor=owner.user, membership_id=owner.pk)

    owner.refresh_from_db()
    assert owner.role == StaffRole.OWNER
    assert not SettingsChange.objects.exists()


def test_another_shops_member_is_not_found(shop, owner):
    stranger = StaffMembershipFactory(shop=ShopFactory(), role=StaffRole.AGENT)

    with pytest.raises(StaffChangeRefused, match="No such staff member"):
        staff_member_remove(shop_id=shop.pk, actor=owner.user, membership_id=stranger.pk)

    assert StaffMembership.objects.filter(pk=stranger.pk).exists()


def test_the_staff_page_says_why_the_last_owner_stays(client, shop, owner):
    client.force_login(owner.user)

    response = client.post(
        reverse("shop_settings:staff_role", args=[owner.pk]),
        {f"m{owner.pk}-role": "agent"},
        follow=True,
    )

    page = response.content.decode()
    assert "only owner" in page
    owner.refresh_from_db()
    assert owner.role == StaffRole.OWNER


def test_the_staff_page_lists_staff_with_roles_and_the_changes(client, shop, owner, manager):
    staff_role_change(
        shop_id=shop.pk, actor=owner.user, membership_id=manager.pk, role=StaffRole.AGENT
    )
    client.force_login(owner.user)

    page = client.get(reverse("shop_settings:staff")).content.decode()

    assert manager.user.email in page
    assert "Send invitation" in page
    assert "staff.role_changed" in page
    assert "manager → agent" in page


def test_a_manager_reads_the_staff_page_without_forms(client, shop, owner, manager):
    client.force_login(manager.user)

    page = client.get(reverse("shop_settings:staff")).content.decode()

    assert owner.user.email in page
    assert "Send invitation" not in page
    assert "Change role" not in page


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    shop = ShopFactory()
    first = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER)
    second = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor, target):
        try:
            start.wait()
            staff_role_change(
                shop_id=shop.pk, actor=actor.user, membership_id=target.pk, role=StaffRole.MANAGER
            )
            outcomes.append("demoted")
        except (StaffChangeRefused, StaffPermissionDenied):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()

    assert sorted(outcomes) == ["demoted", "refused"]
    assert StaffMembership.objects.filter(shop=shop, role=StaffRole.OWNER).count() == 1
    assert SettingsChange.objects.filter(shop=shop).count() == 1
