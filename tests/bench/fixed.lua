-- One request, the same every time, described by the environment (tests/bench/run sets it):
--   BENCH_METHOD  GET or POST (default GET)
--   BENCH_BODY    a form-urlencoded body, sent with its Content-Type (optional)
--   BENCH_AUTH    the Authorization header's value (optional)
-- With no request() function wrk builds the request once and reuses it: the cheapest load.

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end
