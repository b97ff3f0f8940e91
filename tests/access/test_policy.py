"""The staff permission policy itself: one table, roles ranked owner > manager > agent."""

import ast
import inspect

import pytest

from postpurchase import permissions as p
from postpurchase.exceptions import DomainError

ROLES = (p.AGENT, p.MANAGER, p.OWNER)


def test_a_higher_role_may_do_everything_a_lower_one_may():
    for action in p.POLICY:
        allowed = [p.role_allows(role, action) for role in ROLES]
        assert allowed == sorted(allowed), action  # False… then True…
        assert p.role_allows(p.OWNER, action)


LOWEST_ROLES = [
    (p.DASHBOARD_VIEW, p.AGENT),
    (p.CASE_HANDLE, p.AGENT),
    (p.CASE_RESOLVE_MONEY, p.MANAGER),
    (p.RETURN_HANDLE, p.AGENT),
    (p.RETURN_DECIDE, p.MANAGER),
    (p.RETURN_RECEIVE, p.MANAGER),
    (p.RETURN_RESOLVE, p.MANAGER),
    (p.TEMPLATE_EDIT, p.MANAGER),
    (p.FLOW_EDIT, p.MANAGER),
    (p.SUPPRESSION_EDIT, p.MANAGER),
    (p.MESSAGE_OPERATE, p.MANAGER),
    (p.TRACKING_LINK_RENEW, p.MANAGER),
    (p.RETURN_POLICY_EDIT, p.OWNER),
    (p.STAFF_EDIT, p.OWNER),
    (p.API_KEY_EDIT, p.OWNER),
    (p.INTEGRATION_EDIT, p.OWNER),
    (p.SETTINGS_VIEW, p.MANAGER),
    (p.SHOP_PROFILE_EDIT, p.MANAGER),
    (p.REVIEW_REPLY, p.AGENT),
    (p.REVIEW_MODERATE, p.MANAGER),
    (p.REVIEW_INCENTIVE_EDIT, p.MANAGER),
    (p.SURVEY_SETTINGS_EDIT, p.MANAGER),
    (p.CASE_POLICY_EDIT, p.MANAGER),
]


@pytest.mark.parametrize(("action", "lowest"), LOWEST_ROLES)
def test_each_action_names_its_lowest_role(action, lowest):
    assert p.POLICY[action].role == lowest
    below = ROLES[: ROLES.index(lowest)]
    assert not any(p.role_allows(role, action) for role in below)


def test_the_table_above_covers_every_action():
    actions = [action for action, _ in LOWEST_ROLES]
    assert len(actions) == len(set(actions))
    assert set(actions) == set(p.POLICY)


def test_no_role_may_do_nothing_and_an_unknown_action_is_an_error():
    assert not p.role_allows(None, p.DASHBOARD_VIEW)
    assert not p.role_allows("intern", p.DASHBOARD_VIEW)
    with pytest.raises(ValueError, match="no action 'launch_rockets'"):
        p.role_allows(p.OWNER, "launch_rockets")


def test_a_refusal_is_a_domain_error_and_a_403_saying_who_may():
    with pytest.raises(p.StaffPermissionDenied) as refused:
        p.permission_require(p.AGENT, p.RETURN_POLICY_EDIT)

    from django.core.exceptions import PermissionDenied

    assert isinstance(refused.value, DomainError)
    assert isinstance(refused.value, PermissionDenied)
    assert str(refused.value) == (
        "Only the shop's owner can change the return policy (you are an agent of this shop)"
    )
    assert "owner or a manager" in str(p.StaffPermissionDenied(p.RETURN_DECIDE, p.AGENT))
    assert "not staff" in str(p.StaffPermissionDenied(p.RETURN_DECIDE, None))


def test_allowed_actions_answer_templates():
    may = p.AllowedActions(p.MANAGER)

    assert may["return_decide"] is True
    assert may["return_policy_edit"] is False
    assert p.AllowedActions(p.AGENT, everything=True)["return_policy_edit"] is True
    with pytest.raises(KeyError):
        may["no_such_action"]


def test_the_kernel_policy_imports_no_app():
    tree = ast.parse(inspect.getsource(p))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"collections", "dataclasses", "django", "postpurchase", "typing"}
