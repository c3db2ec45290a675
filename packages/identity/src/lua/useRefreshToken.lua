--[[ useRefreshToken.lua: spends a refresh token, once.
  KEYS[1]: the refresh token's record (hash: c customer id, s session id, state "active" | "rotated")
  ARGV: none
  Returns: {"unknown"} when there is no such token (never issued, expired or revoked);
           {"reused", customer, session} when it was already rotated (someone replays it);
           {"active", customer, session} when it was active: it is now marked rotated (its TTL
           kept), so a second use is recognised as reuse.
]]
local record = redis.call("HMGET", KEYS[1], "c", "s", "state")
if not record[1] then return { "unknown" } end
if record[3] ~= "active" then return { "reused", record[1], record[2] } end
redis.call("HSET", KEYS[1], "state", "rotated")
return { "active", record[1], record[2] }
