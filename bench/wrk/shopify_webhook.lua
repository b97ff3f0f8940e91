-- POST /webhooks/shopify/ as Shopify delivers orders/create: one realistic signed body (the
-- HMAC covers only the body, so it is computed once) and a fresh X-Shopify-Event-Id on every
-- request, so each one is a new delivery, never a duplicate.
--
-- Environment: BENCH_WRK_DIR (this folder), BENCH_BODY_FILE, BENCH_HMAC, BENCH_SHOP_DOMAIN,
-- BENCH_RUN_ID (keeps ids unique across runs against the same database).

dofile(os.getenv("BENCH_WRK_DIR") .. "/status.lua")

local count_init = init
local body, hmac, domain, run_id

function init(args)
  count_init(args)
  local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
  body = file:read("*a")
  file:close()
  hmac = os.getenv("BENCH_HMAC")
  domain = os.getenv("BENCH_SHOP_DOMAIN")
  run_id = os.getenv("BENCH_RUN_ID")
  sent = 0
end

function request()
  sent = sent + 1
  local event_id = string.format("%s-%d-%d", run_id, tid, sent)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Shop-Domain"] = domain,
    ["X-Shopify-Hmac-Sha256"] = hmac,
    ["X-Shopify-API-Version"] = "2025-07",
    ["X-Shopify-Event-Id"] = event_id,
    ["X-Shopify-Webhook-Id"] = event_id,
  }, body)
end
