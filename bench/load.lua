-- wrk script for bench/load.py: readers cycling through the report, list and search pages
-- of PATHS_FILE (one path a line), each thread starting at a different place. Prints one
-- line "LOAD_JSON {...}" with the throughput, the latency percentiles, the errors and how
-- many responses came with each status.
--
--   wrk --latency ... -s bench/load.lua URL -- PATHS_FILE
--
-- Unlike bench/report.lua it has a `response` function, so that every status is counted
-- (wrk itself counts only those of 400 and above): wrk then hands each body to Lua, a copy
-- that costs a little CPU, which the load test can afford.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  local position = (id or 1) * 7919 % #paths
  statuses = {}
  request = function()
    position = position % #paths + 1
    return wrk.format(nil, paths[position])
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"error_status": %d, "bytes": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    errors.connect, errors.read, errors.write, errors.timeout,
    errors.status, summary.bytes, table.concat(parts, ", ")))
end
