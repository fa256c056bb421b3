-- Requests built from templates with random integers, for `python -m bench`.
-- wrk -s random.lua URL -- METHOD EXPECT PATH BODY SEED name=lo:hi ... name=first+ ...
-- Every "{name}" in PATH and BODY (BODY "" for none) becomes a random integer in
-- [lo, hi], drawn anew for each request; a name given as "first+" counts instead: the
-- first request gets first, the next first + 1, and so on (one wrk thread only: each
-- thread would count for itself). The summary line is the one bench/load.py reads:
-- BENCH requests duration_us p50_us p99_us unexpected_status socket_errors
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  method, expect, path, body = args[1], tonumber(args[2]), args[3], args[4]
  if body == "" then body = nil end
  math.randomseed(tonumber(args[5]))
  ranges = {}
  counters = {}
  for i = 6, #args do
    local name, lo, hi = args[i]:match("^(%w+)=(%-?%d+):(%-?%d+)$")
    if name then
      ranges[name] = {tonumber(lo), tonumber(hi)}
    else
      local counted, first = args[i]:match("^(%w+)=(%-?%d+)%+$")
      counters[counted] = tonumber(first)
    end
  end
end

local function fill(template)
  return (template:gsub("{(%w+)}", function(name)
    local next_value = counters[name]
    if next_value then
      counters[name] = next_value + 1
      return string.format("%d", next_value)
    end
    local range = ranges[name]
    if range then return tostring(math.random(range[1], range[2])) end
  end))
end

function request()
  return wrk.format(method, fill(path), nil, body and fill(body) or nil)
end

function response(status, headers, body)
  if status ~= expect then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("unexpected") end
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.1f %.1f %d %d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), wrong,
    e.connect + e.read + e.write + e.timeout))
end
