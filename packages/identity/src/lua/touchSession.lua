--[[ touchSession.lua: slides a session's idle expiry forward, or clears what is left of a
  session that has ended. All keys are the customer's (hash tag {c:<id>}).
  KEYS[1]: session index, KEYS[2]: session state (see openSession.lua)
  KEYS[3]: the session's document
  ARGV[1]: session id, ARGV[2]: now (epoch ms), ARGV[3]: idle timeout (ms)
  Returns: the session's new expiry deadline (epoch ms), or 0 when the session has ended (its
           index entry, state and document are then deleted: a late event cannot revive it).
]]
--- @include "includes/liveSession"
local index, state, doc = KEYS[1], KEYS[2], KEYS[3]
local id, now = ARGV[1], tonumber(ARGV[2])
local score, current = liveSession(index, state, doc, id, now)
if not score then return 0 end
local absolute = tonumber(string.match(current, "^(%d+)"))
local deadline = math.max(tonumber(score), math.min(now + tonumber(ARGV[3]), absolute))
redis.call("ZADD", index, deadline, id)
redis.call("PEXPIREAT", doc, deadline)
return deadline
