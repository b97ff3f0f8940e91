"""The keys a customer holds to their case without logging in: the signed link of a "did we make
it right?" answer, and the reply address that brings their email back to the case."""

import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

# Changing either salt invalidates every link or address already sent.
_FOLLOWUP_SALT = "feedback.case_followup"
_ADDRESS_SALT = "feedback.case_reply_address"
FOLLOWUP_VALID_FOR = timedelta(days=90)
# Lower-case hex only: some mail systems lower-case the local part of an address.
_ADDRESS = re.compile(r"^case\+(?P<pk>\d+)-(?P<sig>[0-9a-f]{20})@(?P<domain>.+)$", re.IGNORECASE)


def followup_token(resolution_id: int) -> str:
    return signing.dumps(resolution_id, salt=_FOLLOWUP_SALT, compress=False)


def resolution_id_from_token(token: str) -> int | None:
    """The resolution a follow-up link names, or None when forged or too old."""
    try:
        value = signing.loads(token, salt=_FOLLOWUP_SALT, max_age=FOLLOWUP_VALID_FOR)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def followup_urls(resolution_id: int) -> tuple[str, str]:
    """The one-tap links of "yes" and "no", signed once so both carry the same token."""
    base = f"{settings.PUBLIC_BASE_URL}/feedback/case/{followup_token(resolution_id)}"
    return f"{base}/yes/", f"{base}/no/"


def _address_signature(case_id: int) -> str:
    return salted_hmac(_ADDRESS_SALT, str(case_id)).hexdigest()[:20]


def case_reply_address(case_id: int) -> str:
    """`case+<id>-<signature>@<inbound domain>`; blank when no inbound domain is set up (the
    reply then goes to the shop's own address, and comes back by In-Reply-To if at all)."""
    domain = settings.FEEDBACK_INBOUND_EMAIL_DOMAIN
    if not domain:
        return ""
    return f"case+{case_id}-{_address_signature(case_id)}@{domain}"


def case_id_from_address(address: str) -> int | None:
    """The case a reply address names, when its signature holds and its domain is ours."""
    found = _ADDRESS.match(address.strip())
    domain = settings.FEEDBACK_INBOUND_EMAIL_DOMAIN
    if not found or not domain or found["domain"].lower() != domain.lower():
        return None
    case_id = int(found["pk"])
    if not constant_time_compare(found["sig"].lower(), _address_signature(case_id)):
        return None
    return case_id
