--[[ throttleFailure.lua: counts a failed login on a username and locks it at the threshold.
  KEYS[1]: the consecutive-failure counter, KEYS[2]: the lock (same hash tag: one username)
  ARGV[1]: how long failures are remembered after the last one (ms)
  ARGV[2]: the threshold, ARGV[3]: how long the lock lasts (ms)
  Returns: {failures so far, 1 when this failure locked the username else 0}.
]]
local failures = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[1])
if failures >= tonumber(ARGV[2]) then
  redis.call("SET", KEYS[2], failures, "PX", ARGV[3])
  redis.call("DEL", KEYS[1])
  return { failures, 1 }
end
return { failures, 0 }
