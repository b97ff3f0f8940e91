"""The Admin API client against a local fake Shopify (the real `requests` runs): what each call
sends, and how each failure is classified (ask again, refused, outcome unknown)."""

import json
import socket
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from werkzeug import Request, Response

from orders import shopify_admin
from orders.shopify_admin import (
    DiscountCodeResult,
    ShopifyOutcomeUnknown,
    ShopifyRefused,
    ShopifyTransientError,
    customer_tags_add,
    customer_tags_remove,
    discount_code_create,
    discount_code_delete,
    discount_code_find,
    is_connected,
)

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-10/graphql.json"
STARTS = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ENDS = datetime(2027, 3, 7, 9, 0, tzinfo=UTC)
NODE = "gid://shopify/DiscountCodeNode/1057371270"


@pytest.fixture
def shopify(httpserver, settings):
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    return httpserver


@pytest.fixture
def connected(shop):
    shop.shopify_access_token = "shpat_loyal"
    shop.save()
    return shop


def answers(shopify, data=None, *, errors=None, status=200) -> None:
    body = {"data": data} if errors is None else {"errors": errors, "data": data}
    shopify.expect_oneshot_request(GRAPHQL, method="POST").respond_with_json(body, status=status)


def created(name: str) -> dict:
    return {name: {"codeDiscountNode": {"id": NODE}, "userErrors": []}}


def sent(shopify, index: int = 0) -> dict:
    return json.loads(shopify.log[index][0].get_data())


def create(shop, **overrides) -> DiscountCodeResult:
    arguments = {
        "code": "LOYAL-7Q2X",
        "title": "Reward: 10% off",
        "kind": "percent_off",
        "value": Decimal("10"),
        "customer_external_id": "207119551",
        "starts_at": STARTS,
        "ends_at": ENDS,
    } | overrides
    return discount_code_create(shop, **arguments)


def restricted_to_one_customer_once(discount: dict) -> None:
    assert discount["context"] == {"customers": {"add": ["gid://shopify/Customer/207119551"]}}
    assert discount["usageLimit"] == 1
    assert discount["appliesOncePerCustomer"] is True
    assert discount["startsAt"] == "2026-12-07T09:00:00+00:00"
    assert discount["endsAt"] == "2027-03-07T09:00:00+00:00"


def test_a_percentage_code_is_created_for_one_customer_once_until_its_end(connected, shopify):
    answers(shopify, created("discountCodeBasicCreate"))

    result = create(connected)

    assert result == DiscountCodeResult(id=NODE, code="LOYAL-7Q2X")
    request = shopify.log[0][0]
    assert request.headers["X-Shopify-Access-Token"] == "shpat_loyal"
    body = sent(shopify)
    assert "discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount)" in body["query"]
    assert "userErrors" in body["query"]
    discount = body["variables"]["basicCodeDiscount"]
    restricted_to_one_customer_once(discount)
    assert discount["code"] == "LOYAL-7Q2X"
    assert discount["title"] == "Reward: 10% off"
    # Shopify reads a percentage as a fraction: 0.1 is 10 %.
    assert discount["customerGets"] == {"value": {"percentage": 0.1}, "items": {"all": True}}


def test_an_amount_off_is_a_decimal_string_off_the_whole_order_not_each_item(connected, shopify):
    answers(shopify, created("discountCodeBasicCreate"))

    create(connected, kind="amount_off", value=Decimal("5.00"), currency="USD")

    discount = sent(shopify)["variables"]["basicCodeDiscount"]
    restricted_to_one_customer_once(discount)
    assert discount["customerGets"] == {
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        "items": {"all": True},
    }


def test_a_free_product_takes_one_units_price_off_that_variant_only(connected, shopify):
    answers(shopify, created("discountCodeBasicCreate"))

    create(connected, kind="free_product", value=Decimal("18.00"), variant_external_id="39072856")

    discount = sent(shopify)["variables"]["basicCodeDiscount"]
    restricted_to_one_customer_once(discount)
    assert discount["customerGets"] == {
        "value": {"discountAmount": {"amount": "18.00", "appliesOnEachItem": False}},
        "items": {"products": {"productVariantsToAdd": ["gid://shopify/ProductVariant/39072856"]}},
    }


def test_a_free_product_may_name_the_product(connected, shopify):
    answers(shopify, created("discountCodeBasicCreate"))

    create(connected, kind="free_product", value=Decimal("18.00"), product_external_id="632910392")

    items = sent(shopify)["variables"]["basicCodeDiscount"]["customerGets"]["items"]
    assert items == {"products": {"productsToAdd": ["gid://shopify/Product/632910392"]}}


def test_free_shipping_is_its_own_mutation_for_the_same_one_customer_once(connected, shopify):
    answers(shopify, created("discountCodeFreeShippingCreate"))

    result = create(connected, kind="free_shipping", value=None, title="Free shipping: Gold")

    assert result.id == NODE
    body = sent(shopify)
    assert (
        "discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount)"
        in body["query"]
    )
    discount = body["variables"]["freeShippingCodeDiscount"]
    restricted_to_one_customer_once(discount)
    assert discount["destination"] == {"all": True}
    assert "customerGets" not in discount


def test_a_code_shopify_refuses_carries_its_user_errors(connected, shopify):
    answers(
        shopify,
        {
            "discountCodeBasicCreate": {
                "codeDiscountNode": None,
                "userErrors": [
                    {
                        "field": ["basicCodeDiscount", "code"],
                        "code": "TAKEN",
                        "message": "Code must be unique.",
                    }
                ],
            }
        },
    )

    with pytest.raises(ShopifyRefused, match="Code must be unique") as refused:
        create(connected)
    assert refused.value.messages == ("Code must be unique.",)


def test_a_throttled_request_is_worth_asking_again(connected, shopify):
    answers(
        shopify,
        errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    )

    with pytest.raises(ShopifyTransientError):
        create(connected)


def test_a_create_shopify_failed_inside_is_outcome_unknown(connected, shopify):
    answers(
        shopify,
        errors=[{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
    )

    with pytest.raises(ShopifyOutcomeUnknown, match="Internal error"):
        create(connected)


def test_a_request_shopify_cannot_read_is_refused(connected, shopify):
    answers(shopify, errors=[{"message": "Access denied for discountCodeBasicCreate field."}])

    with pytest.raises(ShopifyRefused, match="Access denied"):
        create(connected)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_create_that_may_have_reached_shopify_is_outcome_unknown(connected, shopify, status):
    shopify.expect_request(GRAPHQL, method="POST").respond_with_data("oops", status=status)

    with pytest.raises(ShopifyOutcomeUnknown, match=f"Shopify answered {status}"):
        create(connected)


def test_a_create_whose_answer_is_lost_is_outcome_unknown(connected, shopify, monkeypatch):
    monkeypatch.setattr(shopify_admin, "TIMEOUT_SECONDS", 0.2)

    def slow(_request: Request) -> Response:
        time.sleep(1)  # Shopify creates the code; its answer comes too late
        return Response(json.dumps({"data": created("discountCodeBasicCreate")}), 200)

    shopify.expect_request(GRAPHQL, method="POST").respond_with_handler(slow)

    with pytest.raises(ShopifyOutcomeUnknown, match="no answer from Shopify"):
        create(connected)


def test_a_rate_limited_create_is_worth_asking_again(connected, shopify):
    shopify.expect_request(GRAPHQL, method="POST").respond_with_data("slow down", status=429)

    with pytest.raises(ShopifyTransientError):
        create(connected)


def test_shopify_out_of_reach_is_worth_asking_again_even_for_a_create(connected, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SHOPIFY_ADMIN_API_URL = f"http://127.0.0.1:{port}/admin/api/2026-10"

    with pytest.raises(ShopifyTransientError):
        create(connected)


def test_a_revoked_token_is_refused(connected, shopify):
    shopify.expect_request(GRAPHQL, method="POST").respond_with_data(
        '{"errors":"[API] Invalid API key or access token"}', status=401
    )

    with pytest.raises(ShopifyRefused, match="401"):
        create(connected)


def test_an_unknown_outcome_is_settled_by_finding_the_code(connected, shopify):
    answers(shopify, {"codeDiscountNodeByCode": {"id": NODE}})
    answers(shopify, {"codeDiscountNodeByCode": None})

    assert discount_code_find(connected, "LOYAL-7Q2X") == DiscountCodeResult(NODE, "LOYAL-7Q2X")
    assert discount_code_find(connected, "LOYAL-NONE") is None

    first, second = sent(shopify, 0), sent(shopify, 1)
    assert "codeDiscountNodeByCode(code: $code)" in first["query"]
    assert first["variables"] == {"code": "LOYAL-7Q2X"}
    assert second["variables"] == {"code": "LOYAL-NONE"}


def test_a_failing_lookup_is_worth_asking_again(connected, shopify):
    shopify.expect_request(GRAPHQL, method="POST").respond_with_data("oops", status=503)

    with pytest.raises(ShopifyTransientError):
        discount_code_find(connected, "LOYAL-7Q2X")


def test_a_released_code_is_deleted(connected, shopify):
    answers(shopify, {"discountCodeDelete": {"deletedCodeDiscountId": NODE, "userErrors": []}})

    discount_code_delete(connected, NODE)

    body = sent(shopify)
    assert "discountCodeDelete(id: $id)" in body["query"]
    assert body["variables"] == {"id": NODE}


def test_customer_tags_are_added_and_removed_by_the_customers_gid(connected, shopify):
    customer = {"node": {"id": "gid://shopify/Customer/207119551"}, "userErrors": []}
    answers(shopify, {"tagsAdd": customer})
    answers(shopify, {"tagsRemove": customer})

    customer_tags_add(connected, "207119551", ["loyalty-gold", "early-access"])
    customer_tags_remove(connected, "207119551", ["loyalty-silver"])

    added, removed = sent(shopify, 0), sent(shopify, 1)
    assert "tagsAdd(id: $id, tags: $tags)" in added["query"]
    assert added["variables"] == {
        "id": "gid://shopify/Customer/207119551",
        "tags": ["loyalty-gold", "early-access"],
    }
    assert "tagsRemove(id: $id, tags: $tags)" in removed["query"]
    assert removed["variables"] == {
        "id": "gid://shopify/Customer/207119551",
        "tags": ["loyalty-silver"],
    }


def test_tagging_creates_nothing_so_a_5xx_is_worth_asking_again(connected, shopify):
    shopify.expect_request(GRAPHQL, method="POST").respond_with_data("oops", status=502)

    with pytest.raises(ShopifyTransientError):
        customer_tags_add(connected, "207119551", ["loyalty-gold"])


def test_a_tag_shopify_refuses_carries_its_message(connected, shopify):
    missing = [{"field": ["id"], "message": "Customer does not exist"}]
    answers(shopify, {"tagsAdd": {"node": None, "userErrors": missing}})

    with pytest.raises(ShopifyRefused, match="Customer does not exist"):
        customer_tags_add(connected, "999", ["loyalty-gold"])


def test_a_shop_without_a_token_is_not_connected_and_asks_nothing(shop, shopify):
    assert shop.domain
    assert not is_connected(shop)

    with pytest.raises(ShopifyRefused, match="no Shopify domain or Admin API token"):
        create(shop)
    assert len(shopify.log) == 0


def test_an_amount_in_another_currency_than_the_shops_is_never_sent(connected, shopify):
    with pytest.raises(ValueError, match="EUR"):
        create(connected, kind="amount_off", value=Decimal("5.00"), currency="EUR")
    assert len(shopify.log) == 0
