--[[ putToken.lua: writes a token record and its expiry in one step, so no record outlives it.
  KEYS[1]: the token's record (identity:access:<hash> or identity:refresh:<hash>)
  ARGV[1]: time to live (ms), ARGV[2..]: field, value, field, value, ...
  Returns: 1.
]]
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], unpack(ARGV, 2))
redis.call("PEXPIRE", KEYS[1], ARGV[1])
return 1
