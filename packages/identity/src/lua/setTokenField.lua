--[[ setTokenField.lua: changes one field of a live access token's record (new roles from the
  customer master, a new authentication time after a step-up), leaving tombstones alone.
  KEYS[1]: the access token's record (identity:access:<hash>)
  ARGV[1]: the field ("r" roles, "a" authentication time), ARGV[2]: its value
  Returns: 1 when the record was live and changed, else 0.
]]
if redis.call("HEXISTS", KEYS[1], "c") == 0 then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
return 1
