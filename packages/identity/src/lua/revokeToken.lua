--[[ revokeToken.lua: ends an access token, leaving a short-lived tombstone that says why, so a
  live stream bound to the token can tell its client ("logout", "revoked", ...). The tombstone
  has no customer or session field, so the token check refuses it like a missing record.
  KEYS[1]: the access token's record (identity:access:<hash>)
  ARGV[1]: the reason, ARGV[2]: how long the tombstone lasts (ms)
  Returns: 1 when there was a live record, else 0 (nothing is written then).
]]
if redis.call("HEXISTS", KEYS[1], "c") == 0 then return 0 end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "e", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1
