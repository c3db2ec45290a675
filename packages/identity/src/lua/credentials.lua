--[[ credentials.lua: applies one customer-master change to the customer's login data, unless
  an equal or newer change was applied already (CDC redelivers at least once).
  KEYS[1]: the customer's credentials (hash: username, passwordHash, status, lockedUntil, roles,
           pos = "<lsn high> <lsn low> <seq>" of the last change applied, deleted = "1" for a
           forgotten customer)
  ARGV[1..3]: the change's position: LSN high and low 32 bits, seq (decimal)
  ARGV[4]: "set" (write the fields that follow), "clear-login" (credentials row deleted) or
           "forget" (customer deleted: keep only a tombstone with the position, for ARGV[5] ms)
  ARGV[5..]: set: field, value, ...; forget: tombstone lifetime (ms)
  Returns: {1 applied | 0 stale, username before, username after ("" for none),
            1 when the password hash changed (from one value to another) else 0,
            roles before, roles after}.
]]
local key = KEYS[1]
local hi, lo, seq = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local before = redis.call("HGET", key, "username") or ""
local hashBefore = redis.call("HGET", key, "passwordHash") or ""
local rolesBefore = redis.call("HGET", key, "roles") or ""
local last = redis.call("HGET", key, "pos")
if last then
  local lh, ll, ls = string.match(last, "^(%d+) (%d+) (%d+)$")
  lh, ll, ls = tonumber(lh), tonumber(ll), tonumber(ls)
  if hi < lh or (hi == lh and (lo < ll or (lo == ll and seq <= ls))) then return { 0, before, before, 0, rolesBefore, rolesBefore } end
end
local pos = ARGV[1] .. " " .. ARGV[2] .. " " .. ARGV[3]
local mode = ARGV[4]
if mode == "forget" then
  redis.call("DEL", key)
  redis.call("HSET", key, "pos", pos, "deleted", "1")
  redis.call("PEXPIRE", key, ARGV[5])
  return { 1, before, "", 0, rolesBefore, "" }
end
if mode == "clear-login" then
  redis.call("HDEL", key, "username", "passwordHash", "status", "lockedUntil")
  redis.call("HSET", key, "pos", pos)
  return { 1, before, "", 0, rolesBefore, rolesBefore }
end
redis.call("HDEL", key, "deleted")
redis.call("PERSIST", key)
redis.call("HSET", key, "pos", pos, unpack(ARGV, 5))
local hashAfter = redis.call("HGET", key, "passwordHash") or ""
local changed = 0
if hashBefore ~= "" and hashAfter ~= hashBefore then changed = 1 end
return { 1, before, redis.call("HGET", key, "username") or "", changed, rolesBefore, redis.call("HGET", key, "roles") or "" }
