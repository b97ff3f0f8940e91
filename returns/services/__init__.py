from returns.services.credit import store_credit_balance, store_credit_issue
from returns.services.eligibility import (
    ReturnableLine,
    keep_item_limit,
    resolutions_for,
    return_methods_for,
    returnable_lines,
)
from returns.services.policy import (
    DEFAULT_REASONS,
    return_address_set,
    return_policy_for,
    return_policy_save,
)
from returns.services.requests import (
    ItemChoice,
    Quote,
    return_quote,
    return_request_create,
)
from returns.services.resolutions import return_request_resolve
from returns.services.transitions import (
    Inspection,
    return_request_approve,
    return_request_cancel,
    return_request_inspect,
    return_request_mark_in_transit,
    return_request_receive,
    return_request_reject,
)

__all__ = [
    "DEFAULT_REASONS",
    "Inspection",
    "ItemChoice",
    "Quote",
    "ReturnableLine",
    "keep_item_limit",
    "resolutions_for",
    "return_address_set",
    "return_methods_for",
    "return_policy_for",
    "return_policy_save",
    "return_quote",
    "return_request_approve",
    "return_request_cancel",
    "return_request_create",
    "return_request_inspect",
    "return_request_mark_in_transit",
    "return_request_receive",
    "return_request_reject",
    "return_request_resolve",
    "returnable_lines",
    "store_credit_balance",
    "store_credit_issue",
]
