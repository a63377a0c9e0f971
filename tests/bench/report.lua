-- Shared by every scenario script (each one starts with dofile of this file).
--
-- wrk runs setup() and done() in its main Lua state and request()/response() in one state per
-- thread, so per-thread counters are only reachable from done() through the thread objects:
-- setup() keeps them. done() prints one line, "BENCH_RESULT {json}", that tests/bench/run parses.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
  -- A scenario that hands each thread its own data defines bench_setup(thread, number).
  if bench_setup then bench_setup(thread, #threads) end
end

-- Sums a per-thread global counter (nil in threads or scripts that do not keep it).
local function sum_over_threads(name)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get(name) or 0)
  end
  return total
end

function done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    -- non_2xx: wrk's own count (status > 399); bad_status: responses a script checked itself
    -- and found wrong (not 200, no refresh token in the body, or without BENCH_REQUIRE's text).
    '"non_2xx":%d,"bad_status":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.status, sum_over_threads("bad_status"),
    errors.connect, errors.read, errors.write, errors.timeout))
end
