--[[ applyEntry.lua: a ledger entry arrived by CDC for an account whose window may be in Redis.
  A loading window buffers it; a ready window appends it when it is the next entry, ignores it
  when it already holds it, and is dropped when entries went missing in between (readers then
  use PostgreSQL until the next login loads it again). "invalidate" drops the window.
  KEYS[1]: the window's metadata (hash)   KEYS[2]: its entries (sorted set by entry number)
  ARGV[1]: "insert" or "invalidate"   ARGV[2]: entry number   ARGV[3]: member (compact entry)
  Returns: "absent", "buffered", "present", "appended" or "invalidated".
]]
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "absent" end
if ARGV[1] == "invalidate" then
  redis.call("DEL", KEYS[1], KEYS[2])
  return "invalidated"
end
local n = tonumber(ARGV[2])
local function add()
  redis.call("ZREMRANGEBYSCORE", KEYS[2], n, n)
  redis.call("ZADD", KEYS[2], n, ARGV[3])
  -- A new sorted set expires with its window.
  if redis.call("PTTL", KEYS[2]) < 0 then
    redis.call("PEXPIRE", KEYS[2], math.max(1, redis.call("PTTL", KEYS[1])))
  end
end
if state == "loading" then
  add()
  return "buffered"
end
local last = tonumber(redis.call("HGET", KEYS[1], "last"))
if n <= last then return "present" end
if n == last + 1 then
  add()
  redis.call("HSET", KEYS[1], "last", n)
  return "appended"
end
redis.call("DEL", KEYS[1], KEYS[2])
return "invalidated"
