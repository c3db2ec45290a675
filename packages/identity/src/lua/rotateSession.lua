--[[ rotateSession.lua: binds a refreshed token pair to a live session and slides its expiry.
  All keys are the customer's (hash tag {c:<id>}).
  KEYS[1]: session index, KEYS[2]: session state (see openSession.lua), KEYS[3]: its document
  ARGV[1]: session id, ARGV[2]: now (epoch ms), ARGV[3]: idle timeout (ms)
  ARGV[4]: the refresh token hash being rotated (must be the session's current one)
  ARGV[5]: new access token hash, ARGV[6]: new refresh token hash
  Returns: {"rotated", <previous access hash>, <new deadline>, <absolute deadline>};
           {"gone"} when the session has ended (what is left of it is deleted);
           {"stale"} when ARGV[4] is not the session's current refresh token.
]]
--- @include "includes/liveSession"
local index, state, doc = KEYS[1], KEYS[2], KEYS[3]
local id, now = ARGV[1], tonumber(ARGV[2])
local score, current = liveSession(index, state, doc, id, now)
if not score then return { "gone" } end
local absolute, access, refresh = string.match(current, "^(%d+) (%S+) (%S+)$")
if refresh ~= ARGV[4] then return { "stale" } end
local deadline = math.max(tonumber(score), math.min(now + tonumber(ARGV[3]), tonumber(absolute)))
redis.call("HSET", state, id, absolute .. " " .. ARGV[5] .. " " .. ARGV[6])
redis.call("ZADD", index, deadline, id)
redis.call("PEXPIREAT", doc, deadline)
return { "rotated", access, tostring(deadline), absolute }
