"""Shopify's Admin API for a connected shop: the one place that talks to it, with the shop's
`domain` and `shopify_access_token`, at `SHOPIFY_ADMIN_API_URL` (REST paths under it, GraphQL
at `{base}/graphql.json`).

Every failure is one of three kinds, and the caller decides from the kind alone:
- `ShopifyTransientError`: nothing was done (no connection was made, a 429, a GraphQL
  `THROTTLED`, a 5xx on a call that creates nothing): asking again is safe.
- `ShopifyRefused`: Shopify said no (a 4xx, GraphQL errors, a mutation's `userErrors`, whose
  messages it carries): asking again the same way gets the same answer.
- `ShopifyOutcomeUnknown`: a call that creates something may have reached Shopify (no answer
  after sending, a 5xx): asking again blindly could create it twice. For a discount code, look
  it up by its code (`discount_code_find`) before asking again.

The functions run outside any transaction: never hold a row lock across them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from orders.models import Shop

TIMEOUT_SECONDS = 10.0

DiscountKind = Literal["amount_off", "percent_off", "free_product", "free_shipping"]


class ShopifyAdminError(Exception):
    """A call to the Admin API did not succeed."""


class ShopifyTransientError(ShopifyAdminError):
    """Nothing was done (no connection, 429, throttled, a 5xx on a call that creates
    nothing): worth asking again."""


class ShopifyRefused(ShopifyAdminError):
    """Shopify refused the request (4xx, GraphQL errors or userErrors): staff, or the caller's
    input, must change before asking again. `messages` are Shopify's own words."""

    def __init__(self, summary: str, messages: Sequence[str] = ()) -> None:
        text = f"{summary}: {'; '.join(messages)}" if messages else summary
        super().__init__(text)
        self.messages = tuple(messages)


class ShopifyOutcomeUnknown(ShopifyAdminError):
    """A creating call may have reached Shopify (the answer was lost, or a 5xx): asking again
    blindly could create twice."""


@dataclass(frozen=True)
class DiscountCodeResult:
    id: str  # the discount's gid, `gid://shopify/DiscountCodeNode/<n>`: what deleting takes
    code: str


def is_connected(shop: Shop) -> bool:
    """Whether the shop has what the Admin API needs: its domain and an access token."""
    return bool(shop.domain and shop.shopify_access_token)


def _never_sent(error: requests.RequestException) -> bool:
    """No connection was made: Shopify cannot have seen the request."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def admin_post(
    shop: Shop,
    path: str,
    body: dict[str, Any],
    *,
    creates: bool = False,
    timeout: float | None = None,
) -> dict[str, Any]:
    """POST `body` as JSON to the shop's Admin API at `path` (e.g. `/graphql.json`) and return
    the decoded answer. A call that `creates` something turns a failure after the request may
    have reached Shopify into ShopifyOutcomeUnknown instead of ShopifyTransientError."""
    if not is_connected(shop):
        raise ShopifyRefused("the shop has no Shopify domain or Admin API token")
    base = settings.SHOPIFY_ADMIN_API_URL.format(domain=shop.domain)
    try:
        response = requests.post(
            f"{base}{path}",
            json=body,
            headers={"X-Shopify-Access-Token": shop.shopify_access_token},
            timeout=TIMEOUT_SECONDS if timeout is None else timeout,
        )
    except requests.RequestException as error:
        if creates and not _never_sent(error):
            raise ShopifyOutcomeUnknown(f"no answer from Shopify: {error}") from error
        raise ShopifyTransientError(str(error)) from error
    status = response.status_code
    if status == 429:  # rate limited: the request was not processed
        raise ShopifyTransientError("Shopify answered 429")
    if status >= 500:
        if creates:
            raise ShopifyOutcomeUnknown(f"Shopify answered {status}")
        raise ShopifyTransientError(f"Shopify answered {status}")
    if status >= 400:
        raise ShopifyRefused(f"Shopify refused the request ({status})", [response.text[:300]])
    try:
        answer = response.json()
    except ValueError as error:
        # A 2xx we cannot read: whatever it said may have been done.
        if creates:
            raise ShopifyOutcomeUnknown(f"an unreadable answer from Shopify ({status})") from error
        raise ShopifyTransientError(f"an unreadable answer from Shopify ({status})") from error
    if not isinstance(answer, dict):
        if creates:
            raise ShopifyOutcomeUnknown(f"an unexpected answer from Shopify ({status})")
        raise ShopifyTransientError(f"an unexpected answer from Shopify ({status})")
    return answer


def graphql(
    shop: Shop, query: str, variables: dict[str, Any], *, creates: bool = False
) -> dict[str, Any]:
    """Run one GraphQL operation and return its `data`. GraphQL answers errors with a 200, so
    the top-level `errors` are classified here: THROTTLED (the operation did not run) is
    transient, an internal error is like a 5xx, anything else is a refusal."""
    answer = admin_post(
        shop, "/graphql.json", {"query": query, "variables": variables}, creates=creates
    )
    errors = answer.get("errors") or []
    if errors:
        if not isinstance(errors, list):  # the REST style, `{"errors": "Not Found"}`
            errors = [{"message": errors}]
        errors = [error if isinstance(error, dict) else {"message": error} for error in errors]
        codes = {(error.get("extensions") or {}).get("code") for error in errors}
        messages = [str(error.get("message", "")) for error in errors]
        if "THROTTLED" in codes:
            raise ShopifyTransientError("Shopify throttled the request")
        if "INTERNAL_SERVER_ERROR" in codes:
            if creates:
                raise ShopifyOutcomeUnknown(f"Shopify failed: {'; '.join(messages)}")
            raise ShopifyTransientError(f"Shopify failed: {'; '.join(messages)}")
        raise ShopifyRefused("Shopify refused the request", messages)
    return answer.get("data") or {}


def _mutate(
    shop: Shop, name: str, query: str, variables: dict[str, Any], *, creates: bool = False
) -> dict[str, Any]:
    """Run a mutation and return its payload; its `userErrors` are a refusal."""
    payload = graphql(shop, query, variables, creates=creates).get(name) or {}
    user_errors = payload.get("userErrors") or []
    if user_errors:
        raise ShopifyRefused(
            f"Shopify refused {name}", [str(e.get("message", "")) for e in user_errors]
        )
    return payload


def shopify_gid(resource: str, external_id: str) -> str:
    """The GraphQL id of a resource we know by its REST id (`gid://shopify/Customer/42`)."""
    if external_id.startswith("gid://"):
        return external_id
    return f"gid://shopify/{resource}/{external_id}"


# --- Discount codes ----------------------------------------------------------------------

_BASIC_CREATE = """
mutation DiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

_FREE_SHIPPING_CREATE = """
mutation DiscountCodeFreeShippingCreate(
  $freeShippingCodeDiscount: DiscountCodeFreeShippingInput!
) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

_DELETE = """
mutation DiscountCodeDelete($id: ID!) {
  discountCodeDelete(id: $id) {
    deletedCodeDiscountId
    userErrors { field code message }
  }
}
"""

_FIND = """
query DiscountCodeFind($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""


def _customer_gets(
    kind: DiscountKind,
    value: Decimal | None,
    product_external_id: str | None,
    variant_external_id: str | None,
) -> dict[str, Any]:
    """What the customer gets, in Shopify's terms: a percentage as a fraction (0.1 is 10 %),
    an amount as a decimal string, never a float of money."""
    if value is None or value <= 0:
        raise ValueError(f"a {kind} discount needs a positive value")
    items: dict[str, Any] = {"all": True}
    if kind == "percent_off":
        if value > 100:
            raise ValueError("a percentage above 100")
        amount: dict[str, Any] = {"percentage": float(value / 100)}
    else:
        amount = {"discountAmount": {"amount": str(value), "appliesOnEachItem": False}}
    if kind == "free_product":
        # A basic code discount cannot limit the quantity it applies to: 100 % off would free
        # every unit in the cart. One unit's price, spread over that product's units, frees
        # exactly one.
        if variant_external_id:
            items = {
                "products": {
                    "productVariantsToAdd": [shopify_gid("ProductVariant", variant_external_id)]
                }
            }
        elif product_external_id:
            items = {"products": {"productsToAdd": [shopify_gid("Product", product_external_id)]}}
        else:
            raise ValueError("a free_product discount needs the product or its variant")
    return {"value": amount, "items": items}


def discount_code_create(
    shop: Shop,
    *,
    code: str,
    title: str,
    kind: DiscountKind,
    value: Decimal | None,
    customer_external_id: str,
    starts_at: datetime,
    ends_at: datetime,
    currency: str | None = None,
    product_external_id: str | None = None,
    variant_external_id: str | None = None,
    applies_once_per_customer: bool = True,
    usage_limit: int = 1,
) -> DiscountCodeResult:
    """Create a discount code in the shop that only this customer can use, `usage_limit`
    times, from `starts_at` until `ends_at`.

    `kind` and `value`: `amount_off` (value: an amount in the shop's currency, taken off the
    order), `percent_off` (value: a percentage, 10 for 10 %), `free_product` (value: one
    unit's price, taken off that product or variant only, so one unit is free), and
    `free_shipping` (no value). `currency`, when given, must be the shop's: Shopify reads
    amounts in it. `title` is what staff see in Shopify's admin.

    Raises ShopifyRefused (carrying Shopify's userErrors, e.g. a code already taken),
    ShopifyTransientError (nothing was created: ask again), or ShopifyOutcomeUnknown (it may
    have been created: `discount_code_find(shop, code)` says, before asking again; codes are
    unique in a shop, so asking again with the same code once it exists is refused, never a
    second discount)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("discount dates must be aware")
    if currency and kind in ("amount_off", "free_product") and currency != shop.currency:
        raise ValueError(f"an amount in {currency} for a shop that sells in {shop.currency}")
    discount: dict[str, Any] = {
        "title": title,
        "code": code,
        "startsAt": starts_at.isoformat(),
        "endsAt": ends_at.isoformat(),
        "context": {"customers": {"add": [shopify_gid("Customer", customer_external_id)]}},
        "appliesOncePerCustomer": applies_once_per_customer,
        "usageLimit": usage_limit,
    }
    if kind == "free_shipping":
        discount["destination"] = {"all": True}
        name, query, variable = (
            "discountCodeFreeShippingCreate",
            _FREE_SHIPPING_CREATE,
            "freeShippingCodeDiscount",
        )
    else:
        discount["customerGets"] = _customer_gets(
            kind, value, product_external_id, variant_external_id
        )
        name, query, variable = "discountCodeBasicCreate", _BASIC_CREATE, "basicCodeDiscount"
    payload = _mutate(shop, name, query, {variable: discount}, creates=True)
    node = payload.get("codeDiscountNode") or {}
    if not node.get("id"):
        # No error and no discount: we cannot tell what Shopify did.
        raise ShopifyOutcomeUnknown(f"Shopify answered {name} without a discount")
    return DiscountCodeResult(id=str(node["id"]), code=code)


def discount_code_find(shop: Shop, code: str) -> DiscountCodeResult | None:
    """The shop's discount with this code (Shopify compares codes without case), or None.
    Settles a create whose outcome is unknown: found, it was created."""
    data = graphql(shop, _FIND, {"code": code})
    node = data.get("codeDiscountNodeByCode") or {}
    return DiscountCodeResult(id=str(node["id"]), code=code) if node.get("id") else None


def discount_code_delete(shop: Shop, discount_id: str) -> None:
    """Delete a discount code (its `DiscountCodeResult.id`), e.g. to release an unused reward.
    Deleting creates nothing, so a 5xx is transient; a code already gone is refused."""
    _mutate(shop, "discountCodeDelete", _DELETE, {"id": discount_id})


# --- Customer tags ---------------------------------------------------------------------------

_TAGS_ADD = """
mutation CustomerTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

_TAGS_REMOVE = """
mutation CustomerTagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""


def customer_tags_add(shop: Shop, customer_external_id: str, tags: Sequence[str]) -> None:
    """Add tags to the customer in Shopify, keeping the tags it has (a storefront can gate a
    collection on one). Adding a tag it has changes nothing, so asking again is safe."""
    variables = {"id": shopify_gid("Customer", customer_external_id), "tags": list(tags)}
    _mutate(shop, "tagsAdd", _TAGS_ADD, variables)


def customer_tags_remove(shop: Shop, customer_external_id: str, tags: Sequence[str]) -> None:
    """Remove tags from the customer in Shopify, leaving its other tags; safe to ask again."""
    variables = {"id": shopify_gid("Customer", customer_external_id), "tags": list(tags)}
    _mutate(shop, "tagsRemove", _TAGS_REMOVE, variables)
