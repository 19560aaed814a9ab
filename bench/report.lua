-- wrk script for bench/run.py: prints one line "BENCH_JSON {...}" with the throughput, the
-- latency percentiles and the errors.
--
--   wrk ... -s bench/report.lua URL [-- PATHS_FILE]
--
-- With PATHS_FILE (one path a line) each thread cycles through the paths, starting at a
-- different place; without it every request goes to URL, prepared once by wrk. The script
-- has no `response` function on purpose: wrk would then hand every body to Lua, which costs
-- more CPU than some pages do (run.py checks each page's status with a request of its own).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  if not args[1] then return end
  local paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  local position = (id or 1) * 7919 % #paths
  request = function()
    position = position % #paths + 1
    return wrk.format(nil, paths[position])
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"error_status": %d, "socket_errors": %d, "timeouts": %d, "bytes": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write, errors.timeout, summary.bytes))
end
