-- Driven by `cargo xtask bench`: one operation against the server or the floor.
-- Environment: BENCH_METHOD, BENCH_TOKEN, BENCH_WORKSPACE, and for a request with a body
-- BENCH_BODY (a template in which every "{n}" becomes a name unique to the run, thread and
-- request) and BENCH_RUN (the run's tag).
local method = os.getenv("BENCH_METHOD")
local template = os.getenv("BENCH_BODY")
local run = os.getenv("BENCH_RUN") or "run"
wrk.method = method
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Workspace-Id"] = os.getenv("BENCH_WORKSPACE")

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

if template then
  wrk.headers["Content-Type"] = "application/json"
  local sent = 0
  request = function()
    sent = sent + 1
    local name = run .. "-" .. thread_number .. "-" .. sent
    return wrk.format(nil, nil, nil, (template:gsub("{n}", name)))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
