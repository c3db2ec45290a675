--[[ page.lua: one page of an account's transactions, newest first, if the prefetched window
  can answer it whole: every entry of the page lies in the window, or the page reaches the
  account's first entry. Otherwise nil, and the reader asks PostgreSQL.
  KEYS[1]: the window's metadata (hash)   KEYS[2]: its entries (sorted set by entry number)
  ARGV[1]: entries numbered below this ("" for the newest page)   ARGV[2]: page size
  Returns: nil, or {currency, decimals, member, member, ...}.
]]
local m = redis.call("HMGET", KEYS[1], "state", "from", "last", "currency", "exponent")
if m[1] ~= "ready" then return false end
local from = tonumber(m[2])
local upper = tonumber(m[3])
if ARGV[1] ~= "" then
  local below = tonumber(ARGV[1]) - 1
  -- A cursor beyond the window's newest entry: the window is behind (CDC has not caught up).
  if below > upper then return false end
  upper = below
end
local limit = tonumber(ARGV[2])
local available = math.max(0, upper - from + 1)
if available < limit and from > 1 then return false end
local want = math.min(limit, available)
local items = {}
if want > 0 then items = redis.call("ZRANGE", KEYS[2], upper, from, "BYSCORE", "REV", "LIMIT", 0, want) end
if #items ~= want then return false end
return {m[4], m[5], unpack(items)}
