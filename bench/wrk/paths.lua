-- GET many paths in turn: each wrk thread walks its own share of the paths (thread 1 the 1st,
-- (n+1)th, ... of n threads), so no two requests in a run ask for the same path until every
-- path has been used once. The tracking page's tokens (with the page cache emptied before the
-- run, every request is an order's first view) and the survey's one-tap links (every request
-- a first tap) are walked this way.
--
-- With BENCH_CLIENTS=1 every request also names its own client in X-Forwarded-For (the server
-- runs with TRUSTED_PROXY_COUNT=1, wrk standing in for the proxy): the taps of many customers,
-- not one address the per-address rate limit would stop after a few dozen.
--
-- Environment: BENCH_WRK_DIR (this folder), BENCH_PATHS_FILE (one path a line),
-- BENCH_WRK_THREADS (wrk's -t), BENCH_CLIENTS (optional).

dofile(os.getenv("BENCH_WRK_DIR") .. "/status.lua")

local count_init = init
local paths, step, next_index, clients, sent

function init(args)
  count_init(args)
  paths = {}
  for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
    if line ~= "" then
      table.insert(paths, line)
    end
  end
  step = tonumber(os.getenv("BENCH_WRK_THREADS"))
  next_index = tid
  clients = os.getenv("BENCH_CLIENTS") == "1"
  sent = 0
end

function request()
  local path = paths[next_index]
  next_index = next_index + step
  if next_index > #paths then
    next_index = ((next_index - 1) % #paths) + 1
  end
  if not clients then
    return wrk.format("GET", path)
  end
  -- 65,536 addresses a thread, 10.<thread>.x.y: one tap each within a run.
  sent = sent + 1
  local address = string.format("10.%d.%d.%d", tid, math.floor(sent / 256) % 256, sent % 256)
  return wrk.format("GET", path, { ["X-Forwarded-For"] = address })
end
