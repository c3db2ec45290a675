--[[ openSession.lua: registers a new session of one customer, within the cap on concurrent
  sessions. All keys are the customer's (hash tag {c:<id>}).
  KEYS[1]: session index (sorted set: session id -> expiry deadline, epoch ms)
  KEYS[2]: session state (hash: session id -> "<absolute deadline> <access hash> <refresh hash>")
  ARGV[1]: the new session id (a UUID v7, so ids sort by creation time)
  ARGV[2]: now (epoch ms)
  ARGV[3]: the new session's expiry deadline (idle), ARGV[4]: its absolute deadline
  ARGV[5]: access token hash, ARGV[6]: refresh token hash
  ARGV[7]: the cap (most concurrent sessions), ARGV[8]: "evict-oldest" or "refuse"
  Returns: {status, id1, state1, why1, id2, ...}: status "opened" or "refused", then every
           session removed on the way with its state and why ("expired", or "evicted": the
           oldest make room), so the caller deletes their tokens and documents.
]]
local index, state = KEYS[1], KEYS[2]
local now = tonumber(ARGV[2])
local removed = {}
-- A retried login (same request, same session id) finds its session already there.
if redis.call("ZSCORE", index, ARGV[1]) then return { "opened" } end

local function remove(id, why)
  removed[#removed + 1] = id
  removed[#removed + 1] = redis.call("HGET", state, id) or ""
  removed[#removed + 1] = why
  redis.call("ZREM", index, id)
  redis.call("HDEL", state, id)
end

for _, id in ipairs(redis.call("ZRANGE", index, "-inf", now, "BYSCORE")) do remove(id, "expired") end

local live = redis.call("ZRANGE", index, 0, -1)
local cap = tonumber(ARGV[7])
if #live >= cap then
  if ARGV[8] == "refuse" then
    table.insert(removed, 1, "refused")
    return removed
  end
  table.sort(live)
  for i = 1, #live - cap + 1 do remove(live[i], "evicted") end
end

redis.call("ZADD", index, ARGV[3], ARGV[1])
redis.call("HSET", state, ARGV[1], ARGV[4] .. " " .. ARGV[5] .. " " .. ARGV[6])
-- Both keys live as long as the longest session in them.
local absolute = tonumber(ARGV[4])
for _, key in ipairs({ index, state }) do
  if redis.call("PEXPIRETIME", key) < absolute then redis.call("PEXPIREAT", key, absolute) end
end
table.insert(removed, 1, "opened")
return removed
