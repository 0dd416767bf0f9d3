-- GET pages for wrk 4.1 (LuaJIT): each request its own path and its own cookie, from two lists.
--
--   wrk -t2 -c8 -d10s --timeout 30s -s bench/wrk/pages.lua http://127.0.0.1:PORT -- PATHS COOKIES THREADS [HEADER [METHOD]]
--
-- PATHS holds one path with its query per line (already URL-encoded); COOKIES one Cookie header value per line
-- (an empty file: no cookie). Both written by bench/web_pages.py. HEADER (default Cookie) names the header the
-- second list's values go in (Authorization: an API's bearer tokens); METHOD (default GET) the request's method
-- (a POST is sent without a body). Request n of thread i of THREADS takes the line
-- (n * THREADS + i) of each list, wrapping around: the threads between them go through every path and every cookie,
-- and a path meets many cookies since the two lists differ in length.
-- done() prints one line "WRK_JSON {...}" in the shape of bench/wrk/requests.lua's (read by bench.wrk_run), with two
-- more fields: `codes`, the answers by exact status (a page must answer 200: a 303 to the sign-in page is a 3xx
-- that requests.lua's classes would hide among redirects), and the 95th percentile `latency_us.p95`.

local threads = {}
local started = 0

function setup(thread)
   thread:set("thread_index", started)
   started = started + 1
   table.insert(threads, thread)
end

local paths, cookies = {}, {}
local step, sent = 1, 0
local header, method = "Cookie", "GET"
codes = {}
samples = {}
loaded = 0

local function lines(path)
   local out = {}
   for line in io.lines(path) do
      if line ~= "" then out[#out + 1] = line end
   end
   return out
end

function init(args)
   paths, cookies, step = lines(args[1]), lines(args[2]), tonumber(args[3])
   header, method = args[4] or header, args[5] or method
   loaded = #paths
end

function request()
   local n = sent * step + thread_index
   sent = sent + 1
   local headers = {}
   if #cookies > 0 then headers[header] = cookies[n % #cookies + 1] end
   if method ~= "GET" then headers["Content-Length"] = "0" end
   return wrk.format(method, paths[n % #paths + 1], headers)
end

function response(status, headers, body)
   local code = tostring(status)
   codes[code] = (codes[code] or 0) + 1
   if status ~= 200 and #samples < 3 then
      samples[#samples + 1] = code .. " " .. (headers["Location"] or headers["location"] or "") .. " "
         .. string.sub(body or "", 1, 300)
   end
end

local function encode(value)
   local kind = type(value)
   if kind == "number" then
      if value ~= value or value == math.huge or value == -math.huge then return "null" end
      if value == math.floor(value) and math.abs(value) < 2^53 then return string.format("%d", value) end
      return string.format("%.6f", value)
   elseif kind == "string" then
      return '"' .. string.gsub(value, '[%c"\\]', function(c)
         return string.format("\\u%04x", string.byte(c))
      end) .. '"'
   elseif kind == "table" then
      if next(value) == nil then return "{}" end
      local items = {}
      if #value > 0 then
         for i = 1, #value do items[i] = encode(value[i]) end
         return "[" .. table.concat(items, ",") .. "]"
      end
      for k, v in pairs(value) do items[#items + 1] = encode(tostring(k)) .. ":" .. encode(v) end
      table.sort(items)
      return "{" .. table.concat(items, ",") .. "}"
   end
   return tostring(value)
end

-- Upper bounds (ms) of the latency histogram's buckets, as requests.lua's; the last bucket is everything above.
local BOUNDS_MS = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000 }

local function histogram(latency)
   local counts, out = {}, {}
   for i = 1, #BOUNDS_MS + 1 do counts[i] = 0 end
   for i = 1, #latency do
      local value, n = latency(i)
      local bucket = #BOUNDS_MS + 1
      for b = 1, #BOUNDS_MS do
         if value <= BOUNDS_MS[b] * 1000 then bucket = b; break end
      end
      counts[bucket] = counts[bucket] + n
   end
   for b = 1, #BOUNDS_MS + 1 do out[b] = { BOUNDS_MS[b] or -1, counts[b] } end
   return out
end

function done(summary, latency, _)
   local all, classes, error_samples, paths_loaded = {}, {}, {}, 0
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("codes") or {}) do
         all[code] = (all[code] or 0) + n
         local class = string.sub(code, 1, 1) .. "xx"
         classes[class] = (classes[class] or 0) + n
      end
      for _, sample in ipairs(thread:get("samples") or {}) do
         if #error_samples < 5 then error_samples[#error_samples + 1] = sample end
      end
      paths_loaded = thread:get("loaded") or paths_loaded
   end
   local out = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      socket_errors = summary.errors,
      statuses = classes,
      codes = all,
      error_samples = error_samples,
      exhausted_threads = 0,
      threads = #threads,
      lines_loaded = paths_loaded,
   }
   if summary.requests > 0 then
      out.latency_us = {
         min = latency.min,
         mean = latency.mean,
         stdev = latency.stdev,
         max = latency.max,
         p50 = latency:percentile(50),
         p75 = latency:percentile(75),
         p90 = latency:percentile(90),
         p95 = latency:percentile(95),
         p99 = latency:percentile(99),
         p999 = latency:percentile(99.9),
      }
      out.latency_histogram = histogram(latency)
   end
   io.write("WRK_JSON " .. encode(out) .. "\n")
end
