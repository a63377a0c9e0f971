-- POST /o/token/ grant_type=refresh_token with rotation: every request presents the refresh
-- token that an earlier response returned, and each token is used exactly once (a second use
-- would be a replay, which revokes the whole family).
--
-- wrk calls request() and response() per thread, not per connection, so each thread keeps a
-- queue of unused tokens: request() takes one, response() puts back the new one from the body.
-- A connection has one request in flight at a time, so a queue that starts with one token per
-- connection never runs dry while every answer carries a new token. Plus one: before the load
-- wrk calls request() once on the first thread to inspect the request it builds
-- (script_verify_request), and the token that call takes is never sent.
--   BENCH_AUTH     Basic credentials of the client the tokens belong to
--   BENCH_TOKENS   a file of pre-issued refresh tokens, one a line: one per connection plus
--                  one per thread
--   BENCH_THREADS  wrk's -t, to deal the tokens out
--   BENCH_REQUIRE  text every answer must also contain (optional; refresh_openid: the id_token
--                  that each refresh of an openid grant signs)

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

-- Main state: deal token i to thread ((i - 1) mod threads) + 1.
function bench_setup(thread, number)
  local all = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line ~= "" then table.insert(all, line) end
  end
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local mine = {}
  for i = number, #all, threads do table.insert(mine, all[i]) end
  thread:set("queue", mine)
end

-- Thread states from here on.
local headers = {
  ["Authorization"] = os.getenv("BENCH_AUTH"),
  ["Content-Type"] = "application/x-www-form-urlencoded",
}
local must_contain = os.getenv("BENCH_REQUIRE") or ""
bad_status = 0

function request()
  -- An empty queue means a chain broke earlier (already counted); the placeholder is then
  -- refused by the server and counted again, never silently skipped.
  local token = table.remove(queue, 1) or "chain-broken"
  return wrk.format("POST", nil, headers, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = status == 200 and body:match('"refresh_token":"([^"]+)"')
  if token then
    table.insert(queue, token)
  end
  if not token or (must_contain ~= "" and not body:find(must_contain, 1, true)) then
    bad_status = bad_status + 1
    -- The first few wrong answers go to wrk's output, which the run script shows on failure.
    if bad_status <= 3 then
      io.write(string.format("BENCH_BAD thread %d: %d %s\n", thread_number, status, body))
    end
  end
end
