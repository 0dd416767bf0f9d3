-- Pre-built requests for wrk 4.1 (LuaJIT): each request its own method, path, headers and body.
--
--   wrk -t2 -c32 -d10s --timeout 30s -s bench/wrk/requests.lua http://127.0.0.1:PORT -- FILE THREADS MODE
--
-- FILE holds one request per line, fields separated by TAB (written by bench/wrk_run.py):
--   METHOD <TAB> PATH <TAB> BODY <TAB> Name: value <TAB> Name: value ...
-- BODY may be empty (no body, no Content-Length). No field holds a TAB or a newline.
-- Thread i of THREADS takes lines i, i+THREADS, i+2*THREADS, ... so no two threads send the same line.
-- MODE "once": every line is sent at most once (account openings: a second one would get a 409); a thread whose
-- lines run out stops, and done() reports it ("exhausted_threads"), so the driver can flag the figure.
-- MODE "cycle": a thread starts again at its first line (reads, the echo).
-- done() prints one line "WRK_JSON {...}": requests, duration, answers by status class, socket errors and
-- timeouts, latency percentiles and a histogram (microseconds), from wrk's own latency record.

local threads = {}
local started = 0

function setup(thread)
   thread:set("thread_index", started)
   started = started + 1
   table.insert(threads, thread)
end

local requests = {}
local count = 0
local position = 0
local cycle = false
statuses = {}
samples = {}
exhausted = false
loaded = 0

local function split(line)
   local fields, start = {}, 1
   while true do
      local tab = string.find(line, "\t", start, true)
      if tab == nil then
         fields[#fields + 1] = string.sub(line, start)
         return fields
      end
      fields[#fields + 1] = string.sub(line, start, tab - 1)
      start = tab + 1
   end
end

function init(args)
   local path, nthreads = args[1], tonumber(args[2])
   cycle = args[3] == "cycle"
   local index = 0
   for line in io.lines(path) do
      if line ~= "" then
         if index % nthreads == thread_index then
            local f = split(line)
            local headers = {}
            for i = 4, #f do
               local name, value = string.match(f[i], "^([^:]+):%s*(.*)$")
               headers[name] = value
            end
            local body = nil
            if f[3] ~= "" then body = f[3] end
            count = count + 1
            requests[count] = wrk.format(f[1], f[2], headers, body)
         end
         index = index + 1
      end
   end
   loaded = count
end

function request()
   if position >= count then
      if cycle and count > 0 then
         position = 0
      else
         -- Nothing is sent: an empty request writes no bytes, and the stopped loop reads no answer.
         exhausted = true
         wrk.thread:stop()
         return ""
      end
   end
   position = position + 1
   return requests[position]
end

function response(status, headers, body)
   local class = math.floor(status / 100) .. "xx"
   statuses[class] = (statuses[class] or 0) + 1
   if status >= 400 and #samples < 3 then
      samples[#samples + 1] = status .. " " .. string.sub(body or "", 1, 300)
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
   elseif kind == "boolean" then
      return tostring(value)
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
   return "null"
end

-- Upper bounds (ms) of the latency histogram's buckets; the last bucket is everything above.
local BOUNDS_MS = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000 }

function done(summary, latency, _)
   local classes, error_samples, exhausted_threads, lines = {}, {}, 0, 0
   for _, thread in ipairs(threads) do
      for class, n in pairs(thread:get("statuses") or {}) do
         classes[class] = (classes[class] or 0) + n
      end
      for _, sample in ipairs(thread:get("samples") or {}) do
         if #error_samples < 5 then error_samples[#error_samples + 1] = sample end
      end
      if thread:get("exhausted") then exhausted_threads = exhausted_threads + 1 end
      lines = lines + (thread:get("loaded") or 0)
   end
   local out = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      socket_errors = summary.errors,
      statuses = classes,
      error_samples = error_samples,
      exhausted_threads = exhausted_threads,
      threads = #threads,
      lines_loaded = lines,
   }
   if summary.requests > 0 then
      local histogram, counts = {}, {}
      for i = 1, #BOUNDS_MS + 1 do counts[i] = 0 end
      for i = 1, #latency do
         local value, n = latency(i)
         local bucket = #BOUNDS_MS + 1
         for b = 1, #BOUNDS_MS do
            if value <= BOUNDS_MS[b] * 1000 then bucket = b; break end
         end
         counts[bucket] = counts[bucket] + n
      end
      for b = 1, #BOUNDS_MS + 1 do
         -- [upper bound in ms (-1: above the last bound), count]
         histogram[b] = { BOUNDS_MS[b] or -1, counts[b] }
      end
      out.latency_us = {
         min = latency.min,
         mean = latency.mean,
         stdev = latency.stdev,
         max = latency.max,
         p50 = latency:percentile(50),
         p75 = latency:percentile(75),
         p90 = latency:percentile(90),
         p99 = latency:percentile(99),
         p999 = latency:percentile(99.9),
      }
      out.latency_histogram = histogram
   end
   io.write("WRK_JSON " .. encode(out) .. "\n")
end
