-- wrk script for `make bench`: one request shape per run, results as one JSON line.
-- The request comes from environment variables so no credential shows in `ps`:
--   BENCH_METHOD (GET/POST), BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTHORIZATION.
-- wrk counts only status >= 400 as errors; response() counts every non-2xx.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   non2xx = 0
   wrk.method = os.getenv("BENCH_METHOD") or "GET"
   local body = os.getenv("BENCH_BODY")
   if body and body ~= "" then wrk.body = body end
   local ctype = os.getenv("BENCH_CONTENT_TYPE")
   if ctype and ctype ~= "" then wrk.headers["Content-Type"] = ctype end
   local auth = os.getenv("BENCH_AUTHORIZATION")
   if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
end

function response(status, headers, body)
   if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
   local bad = 0
   for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes, bad,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
