--[[ setTokenRoles.lua: writes a customer's new roles into a live access token's record (a role
  change in the customer master applies to live sessions), leaving tombstones alone.
  KEYS[1]: the access token's record (identity:access:<hash>)
  ARGV[1]: the roles, comma-separated
  Returns: 1 when the record was live and changed, else 0.
]]
if redis.call("HEXISTS", KEYS[1], "c") == 0 then return 0 end
redis.call("HSET", KEYS[1], "r", ARGV[1])
return 1
