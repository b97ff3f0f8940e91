-- GET /track/<token>/ for many orders in turn: each wrk thread walks its own share of the
-- tokens (thread 1 the 1st, (n+1)th, ... of n threads), so no two requests in a run ask for the
-- same order until every token has been used once. With the page cache emptied before the
-- run, every request is an order's first view: the uncached page.
--
-- Environment: BENCH_WRK_DIR (this folder), BENCH_TOKENS_FILE (one token a line),
-- BENCH_WRK_THREADS (wrk's -t).

dofile(os.getenv("BENCH_WRK_DIR") .. "/status.lua")

local count_init = init
local paths, step, next_index

function init(args)
  count_init(args)
  paths = {}
  for token in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
    if token ~= "" then
      table.insert(paths, "/track/" .. token .. "/")
    end
  end
  step = tonumber(os.getenv("BENCH_WRK_THREADS"))
  next_index = tid
end

function request()
  local path = paths[next_index]
  next_index = next_index + step
  if next_index > #paths then
    next_index = ((next_index - 1) % #paths) + 1
  end
  return wrk.format("GET", path)
end
