--[[ throttleHit.lua: counts one attempt in a fixed window.
  KEYS[1]: the counter
  ARGV[1]: window length (ms)
  Returns: {attempts in this window including this one, ms until the window ends}.
]]
local count = redis.call("INCR", KEYS[1])
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
