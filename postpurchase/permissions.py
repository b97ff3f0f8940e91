"""The staff permission policy: what each role may do in a shop, declared once.

Roles are plain values ranked owner > manager > agent; each action names the lowest role that
may take it, so a higher role may always do what a lower one may. Agents handle customers and
cases and read everything in the dashboard; managers also decide on returns and their money,
and edit templates, flows and suppressions and operate messages; owners also edit policy,
staff, API keys and integrations. The settings area (staff, API keys, integrations: who may
act for the shop and with what) is the owners' to change and the managers' to read; agents
do not see it at all, since it lists the shop's staff and its access. Its profile and
branding (name, logo, colour, contacts) managers change too.

The kernel knows no app: the dashboard shell enforces this policy in every dashboard view
(`postpurchase.shell.staff.StaffPermissionMixin`), and `orders.tenancy`, which reads a staff
member's role in a shop, enforces it through `staff_permission_require` in every service that
changes money, policy or settings.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from django.core.exceptions import PermissionDenied

from postpurchase.exceptions import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Who takes an action, as services receive it: a signed-in user (a staff member, or the
# platform's ops), or None for the system itself (a task, a rule of the shop's own policy).
Actor: TypeAlias = "User | None"

AGENT = "agent"
MANAGER = "manager"
OWNER = "owner"
# Lowest first: a role may do everything the roles before it may.
ROLES = (AGENT, MANAGER, OWNER)
_RANK = {role: rank for rank, role in enumerate(ROLES)}

# Actions. The values are identifiers, so templates can ask `staff_may.return_decide`.
DASHBOARD_VIEW = "dashboard_view"
CASE_HANDLE = "case_handle"
CASE_RESOLVE_MONEY = "case_resolve_money"
RETURN_HANDLE = "return_handle"
RETURN_DECIDE = "return_decide"
RETURN_RECEIVE = "return_receive"
RETURN_RESOLVE = "return_resolve"
TEMPLATE_EDIT = "template_edit"
FLOW_EDIT = "flow_edit"
SUPPRESSION_EDIT = "suppression_edit"
MESSAGE_OPERATE = "message_operate"
TRACKING_LINK_RENEW = "tracking_link_renew"
RETURN_POLICY_EDIT = "return_policy_edit"
STAFF_EDIT = "staff_edit"
API_KEY_EDIT = "api_key_edit"
INTEGRATION_EDIT = "integration_edit"
SETTINGS_VIEW = "settings_view"
SHOP_PROFILE_EDIT = "shop_profile_edit"
REVIEW_REPLY = "review_reply"
REVIEW_MODERATE = "review_moderate"
REVIEW_INCENTIVE_EDIT = "review_incentive_edit"
SURVEY_SETTINGS_EDIT = "survey_settings_edit"
CASE_POLICY_EDIT = "case_policy_edit"


@dataclass(frozen=True)
class Rule:
    # The lowest role allowed.
    role: str
    # What the action does, as staff read it in a refusal: "approve or reject returns".
    does: str


POLICY: Mapping[str, Rule] = {
    DASHBOARD_VIEW: Rule(AGENT, "see the dashboard"),
    CASE_HANDLE: Rule(AGENT, "handle problems customers report and follow-up cases"),
    # A refund or store credit names money the shop gives away: a manager's call.
    CASE_RESOLVE_MONEY: Rule(MANAGER, "resolve a case with a refund or store credit"),
    RETURN_HANDLE: Rule(AGENT, "mark a return as on its way back"),
    RETURN_DECIDE: Rule(MANAGER, "approve or reject returns"),
    RETURN_RECEIVE: Rule(MANAGER, "receive and inspect returns"),
    RETURN_RESOLVE: Rule(MANAGER, "resolve returns (refund, credit, exchange)"),
    TEMPLATE_EDIT: Rule(MANAGER, "change message templates"),
    FLOW_EDIT: Rule(MANAGER, "change message flows"),
    SUPPRESSION_EDIT: Rule(MANAGER, "change the suppression list"),
    MESSAGE_OPERATE: Rule(MANAGER, "send, cancel, retry or settle messages"),
    TRACKING_LINK_RENEW: Rule(MANAGER, "regenerate tracking links"),
    RETURN_POLICY_EDIT: Rule(OWNER, "change the return policy"),
    STAFF_EDIT: Rule(OWNER, "change the shop's staff"),
    API_KEY_EDIT: Rule(OWNER, "create or revoke API keys"),
    INTEGRATION_EDIT: Rule(OWNER, "change integrations"),
    SETTINGS_VIEW: Rule(MANAGER, "see the shop's settings"),
    # The shop's name, look and contacts touch neither money nor access: managers keep them.
    SHOP_PROFILE_EDIT: Rule(MANAGER, "change the shop's profile and branding"),
    # Answering a customer in public is customer care; what stays published is a manager's.
    REVIEW_REPLY: Rule(AGENT, "reply to reviews"),
    REVIEW_MODERATE: Rule(MANAGER, "publish or reject reviews and flag their photos"),
    REVIEW_INCENTIVE_EDIT: Rule(MANAGER, "change the review incentive"),
    # What the shop asks, when and how often: like the flows, which carry the survey's delay.
    SURVEY_SETTINGS_EDIT: Rule(MANAGER, "change the survey settings"),
    # How fast cases must be answered: agents work to it, managers set it.
    CASE_POLICY_EDIT: Rule(MANAGER, "change the case policy"),
}


def rule_for(action: str) -> Rule:
    """The action's rule; an action the policy does not name is a programming error."""
    try:
        return POLICY[action]
    except KeyError:
        raise ValueError(f"the staff permission policy has no action '{action}'") from None


def role_allows(role: str | None, action: str) -> bool:
    """Whether `role` (None: no role in the shop) may take `action`."""
    rule = rule_for(action)
    return role in _RANK and _RANK[role] >= _RANK[rule.role]


def roles_at_least(role: str) -> tuple[str, ...]:
    """`role` and every role above it."""
    return ROLES[_RANK[role] :]


def is_ops(user: object) -> bool:
    """A superuser is the platform's ops, who may do everything (as they can in admin)."""
    return bool(getattr(user, "is_superuser", False))


def _who(role: str) -> str:
    if role == OWNER:
        return "the shop's owner"
    if role == MANAGER:
        return "the shop's owner or a manager"
    return "the shop's staff"


class StaffPermissionDenied(DomainError, PermissionDenied):
    """The acting staff member's role in the shop is too low for the action. A DomainError
    for the services' callers, and Django's PermissionDenied (a 403) should it reach a view."""

    def __init__(self, action: str, role: str | None) -> None:
        self.action = action
        self.role = role
        rule = rule_for(action)
        if role:
            yours = f"you are {'an' if role[0] in 'aeiou' else 'a'} {role} of this shop"
        else:
            yours = "you are not staff of this shop"
        super().__init__(f"Only {_who(rule.role)} can {rule.does} ({yours})")


def permission_require(role: str | None, action: str) -> None:
    if not role_allows(role, action):
        raise StaffPermissionDenied(action, role)


class AllowedActions(Mapping[str, bool]):
    """What one staff member may do, for templates: `{% if staff_may.return_decide %}`."""

    def __init__(self, role: str | None, *, everything: bool = False) -> None:
        self.role = role
        self._everything = everything

    def __getitem__(self, action: str) -> bool:
        if action not in POLICY:
            raise KeyError(action)
        return self._everything or role_allows(self.role, action)

    def __iter__(self) -> Iterator[str]:
        return iter(POLICY)

    def __len__(self) -> int:
        return len(POLICY)
