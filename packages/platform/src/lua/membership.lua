-- Keeps the live members of a consumer group of the partition-owned mode (Membership.ts): a
-- sorted set of member → last heartbeat, in the server's clock so members on hosts with skewed
-- clocks agree.
-- KEYS[1]  the members' sorted set
-- ARGV[1]  the member
-- ARGV[2]  how long a member stays live without a heartbeat, in ms
-- ARGV[3]  "beat" (join or stay) or "leave"
-- Returns the live members, sorted by name.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
return members
