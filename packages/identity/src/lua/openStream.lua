--[[ openStream.lua: registers a live stream (Server-Sent Events) of one session, within the
  per-session cap; beyond it the oldest streams are dropped (their edge process sees that and
  closes them with "superseded").
  KEYS[1]: the session's streams (sorted set: stream id -> opened at, epoch ms), in the
           customer's hash tag
  ARGV[1]: stream id, ARGV[2]: now (epoch ms), ARGV[3]: the cap, ARGV[4]: key lifetime (ms)
  Returns: the ids of the streams dropped to make room.
]]
local key = KEYS[1]
redis.call("ZADD", key, ARGV[2], ARGV[1])
local over = redis.call("ZCARD", key) - tonumber(ARGV[3])
local dropped = {}
if over > 0 then
  for i, id in ipairs(redis.call("ZRANGE", key, 0, over - 1)) do dropped[i] = id end
  redis.call("ZREMRANGEBYRANK", key, 0, over - 1)
end
redis.call("PEXPIRE", key, ARGV[4])
return dropped
