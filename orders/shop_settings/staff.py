"""The shop's staff: invitations by email, role changes, removals.

Every change locks the shop's row first, so two changes to the same shop's staff run one after
the other and each decides on the staff as the other left it: two owners demoting each other
at once leave one owner, never none.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orders.models import SettingsArea, Shop, StaffInvitation, StaffMembership, StaffRole
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require, staff_role
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock

INVITATION_VALID_FOR = timedelta(days=7)
_INVITATION_SALT = "orders.staff_invitation"


class StaffChangeRefused(DomainError):
    """A staff change the shop's rules do not allow; nothing was changed."""


@dataclass(frozen=True)
class InvitationSent:
    invitation: StaffInvitation
    link: str


def _shop_lock(shop_id: int) -> Shop:
    return row_lock(Shop.objects.get(pk=shop_id))


def _owner_count(shop_id: int) -> int:
    return StaffMembership.objects.filter(shop_id=shop_id, role=StaffRole.OWNER).count()


def _may_grant(actor: AnyUser | None, shop_id: int, role: str) -> None:
    """Only an owner makes someone an owner."""
    if role != StaffRole.OWNER or actor is None or permissions.is_ops(actor):
        return
    if staff_role(actor, shop_id) != StaffRole.OWNER:
        raise StaffChangeRefused("Only an owner can make someone an owner.")


def invitation_token(invitation: StaffInvitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=_INVITATION_SALT)


def staff_invite(*, shop_id: int, actor: AnyUser | None, email: str, role: str) -> InvitationSent:
    """Invite `email` to the shop's staff with `role`: a signed link, valid for seven days
    and once, is emailed after the invitation is committed."""
    email = email.strip().lower()
    with transaction.atomic():
        shop = _shop_lock(shop_id)
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.STAFF_EDIT)
        _may_grant(actor, shop_id, role)
        if StaffMembership.objects.filter(shop_id=shop_id, user__email__iexact=email).exists():
            raise StaffChangeRefused(f"{email} is already staff of this shop.")
        invitation = StaffInvitation.objects.create(
            shop=shop,
            email=email,
            role=role,
            invited_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
            expires_at=timezone.now() + INVITATION_VALID_FOR,
        )
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.STAFF,
            action="staff.invited",
            subject=email,
            changes={"role": (None, role)},
        )
        link = settings.PUBLIC_BASE_URL + reverse(
            "staff_invitation:accept", kwargs={"token": invitation_token(invitation)}
        )
        sent = InvitationSent(invitation=invitation, link=link)
        # The provider is called after the commit: no row lock is held across it.
        transaction.on_commit(lambda: _invitation_email(sent, shop.name))
    return sent


def _invitation_email(sent: InvitationSent, shop_name: str) -> None:
    role = StaffRole(sent.invitation.role).label.lower()
    send_mail(
        subject=f"You are invited to join {shop_name}",
        message=(
            f"You have been invited to join {shop_name} as {role}.\n\n"
            f"Accept the invitation within 7 days: {sent.link}\n\n"
            "The link works once. If you did not expect it, ignore this email."
        ),
        from_email=None,
        recipient_list=[sent.invitation.email],
    )


def staff_invitation_find(*, token: str) -> StaffInvitation:
    """The open invitation the link names; a DomainError saying why not otherwise."""
    try:
        payload = signing.loads(token, salt=_INVITATION_SALT, max_age=INVITATION_VALID_FOR)
    except signing.SignatureExpired:
        raise StaffChangeRefused("This invitation has expired. Ask for a new one.") from None
    except signing.BadSignature:
        raise StaffChangeRefused("This invitation link is not valid.") from None
    invitation = (
        StaffInvitation.objects.select_related("shop").filter(pk=payload["invitation"]).first()
    )
    if invitation is None:
        raise StaffChangeRefused("This invitation link is not valid.")
    if invitation.revoked_at is not None:
        raise StaffChangeRefused("This invitation was withdrawn. Ask for a new one.")
    if invitation.accepted_at is not None:
        raise StaffChangeRefused("This invitation has already been used.")
    if invitation.expires_at <= timezone.now():
        raise StaffChangeRefused("This invitation has expired. Ask for a new one.")
    return invitation


def staff_invitation_accept(
    *, token: str, user: User | None = None, password: str = ""
) -> StaffMembership:
    """Join the shop as the invitation says: as `user` (signed in with an existing account),
    or as a new account for the invited address with `password`. The link then works no more."""
    with transaction.atomic():
        invitation = row_lock(staff_invitation_find(token=token))
        # Found again under the lock: a second, simultaneous use sees it accepted.
        staff_invitation_find(token=token)
        if user is None:
            user = _account_create(invitation.email, password)
        if StaffMembership.objects.filter(shop_id=invitation.shop_id, user_id=user.pk).exists():
            raise StaffChangeRefused("You are already staff of this shop.")
        membership = StaffMembership.objects.create(
            shop_id=invitation.shop_id, user=user, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        settings_change_record(
            shop_id=invitation.shop_id,
            actor=user,
            area=SettingsArea.STAFF,
            action="staff.joined",
            subject=_member_label(membership),
            changes={"role": (None, invitation.role)},
        )
    return membership


def staff_invitation_revoke(*, shop_id: int, actor: AnyUser | None, invitation_id: int) -> None:
    """Withdraw an open invitation: its link then works no more, like an expired one."""
    with transaction.atomic():
        _shop_lock(shop_id)
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.STAFF_EDIT)
        invitation = (
            StaffInvitation.objects.select_for_update()
            .filter(shop_id=shop_id, pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise StaffChangeRefused("No such invitation in this shop.")
        if not invitation.is_open(timezone.now()):
            raise StaffChangeRefused(f"The invitation to {invitation.email} is no longer open.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.STAFF,
            action="staff.invitation_revoked",
            subject=invitation.email,
            changes={"invitation": ("open", "revoked")},
        )


def _account_create(email: str, password: str) -> User:
    user_model = get_user_model()
    if user_model._default_manager.filter(email__iexact=email).exists():
        raise StaffChangeRefused("An account with this email exists: sign in to accept.")
    user: User = user_model._default_manager.create_user(
        username=email, email=email, password=password
    )
    return user


def _member_label(membership: StaffMembership) -> str:
    user = membership.user
    return str(user.email or user.get_username())


def _membership_lock(shop_id: int, membership_id: int) -> StaffMembership:
    membership = (
        StaffMembership.objects.select_for_update()
        .select_related("user")
        .filter(shop_id=shop_id, pk=membership_id)
        .first()
    )
    if membership is None:
        raise StaffChangeRefused("No such staff member in this shop.")
    return membership


def staff_role_change(
    *, shop_id: int, actor: AnyUser | None, membership_id: int, role: str
) -> StaffMembership:
    """Give a staff member another role. The shop keeps at least one owner."""
    if role not in StaffRole.values:
        raise StaffChangeRefused(f"'{role}' is not a role.")
    with transaction.atomic():
        _shop_lock(shop_id)
        # Checked under the lock: an owner demoted a moment ago may no longer do this.
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.STAFF_EDIT)
        _may_grant(actor, shop_id, role)
        membership = _membership_lock(shop_id, membership_id)
        before = membership.role
        if before == role:
            return membership
        if before == StaffRole.OWNER and _owner_count(shop_id) <= 1:
            raise StaffChangeRefused(
                f"{_member_label(membership)} is the shop's only owner: make someone else an "
                "owner first."
            )
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.STAFF,
            action="staff.role_changed",
            subject=_member_label(membership),
            changes={"role": (before, role)},
        )
    return membership


def staff_member_remove(*, shop_id: int, actor: AnyUser | None, membership_id: int) -> None:
    """Take a staff member off the shop (their account stays). The last owner stays."""
    with transaction.atomic():
        _shop_lock(shop_id)
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.STAFF_EDIT)
        membership = _membership_lock(shop_id, membership_id)
        if membership.role == StaffRole.OWNER and _owner_count(shop_id) <= 1:
            raise StaffChangeRefused(
                f"{_member_label(membership)} is the shop's only owner and cannot be removed."
            )
        label, role = _member_label(membership), membership.role
        membership.delete()
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.STAFF,
            action="staff.removed",
            subject=label,
            changes={"role": (role, None)},
        )
