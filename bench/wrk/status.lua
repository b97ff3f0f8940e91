-- Counts responses by status class in every wrk thread and prints the totals at the end.
-- wrk's own "Non-2xx or 3xx responses" line counts redirects as successes; a 301 to HTTPS
-- must not pass for a served request, so every class is counted here.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  s1xx, s2xx, s3xx, s4xx, s5xx = 0, 0, 0, 0, 0
end

function response(status, headers, body)
  if status < 200 then s1xx = s1xx + 1
  elseif status < 300 then s2xx = s2xx + 1
  elseif status < 400 then s3xx = s3xx + 1
  elseif status < 500 then s4xx = s4xx + 1
  else s5xx = s5xx + 1 end
end

function done(summary, latency, requests)
  local totals = { 0, 0, 0, 0, 0 }
  for _, thread in ipairs(threads) do
    for class = 1, 5 do
      totals[class] = totals[class] + (thread:get("s" .. class .. "xx") or 0)
    end
  end
  io.write(string.format("STATUS 1xx=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d\n", unpack(totals)))
end
