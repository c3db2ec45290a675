--[[ includes/liveSession.lua: `liveSession(index, state, doc, id, now)` for the session scripts
  (touchSession, rotateSession). The session `id` of one customer is live while its index entry's
  deadline (KEYS index: sorted set id -> deadline, epoch ms) is after `now` and it has a state
  (hash id -> "<absolute deadline> <access hash> <refresh hash>").
  Returns: deadline (number), state (string) of a live session; nil for one that has ended, whose
  index entry, state and document `doc` are then deleted, so a late event cannot revive it.
]]
local function liveSession(index, state, doc, id, now)
  local score = redis.call("ZSCORE", index, id)
  local current = redis.call("HGET", state, id)
  if not score or not current or tonumber(score) <= now then
    redis.call("ZREM", index, id)
    redis.call("HDEL", state, id)
    redis.call("DEL", doc)
    return nil
  end
  return tonumber(score), current
end
