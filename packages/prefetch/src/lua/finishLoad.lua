--[[ finishLoad.lua: an account's prefetch completes with the entries its snapshot read. They
  join the entries CDC buffered meanwhile (an entry number already there is kept: ledger entries
  never change once booked), the window extends over buffered entries that follow on, and it
  becomes "ready". Nothing happens when another load or an invalidation came in between.
  KEYS[1]: the window's metadata (hash)   KEYS[2]: its entries (sorted set by entry number)
  ARGV[1]: the load's token   ARGV[2]: first entry number of the window   ARGV[3]: last one
  ARGV[4]: currency   ARGV[5]: its decimals   ARGV[6]: time to live (ms)   ARGV[7]: loaded at (ms)
  ARGV[8..]: entry number, member, entry number, member, ...
  Returns: the window's last entry number, or -1 when the load was superseded.
]]
if redis.call("HGET", KEYS[1], "token") ~= ARGV[1] then return -1 end
-- The entry numbers CDC buffered (few: the window was emptied when the load began), read once;
-- the loaded entries not among them go in with one ZADD per thousand, not a ZCOUNT and a ZADD
-- each (a login loads a hundred or more).
local held = {}
local buffered = redis.call("ZRANGE", KEYS[2], 0, -1, "WITHSCORES")
for i = 2, #buffered, 2 do held[tonumber(buffered[i])] = true end
local add = {}
for i = 8, #ARGV, 2 do
  local n = tonumber(ARGV[i])
  if not held[n] then
    held[n] = true
    add[#add + 1] = ARGV[i]
    add[#add + 1] = ARGV[i + 1]
    if #add >= 2000 then
      redis.call("ZADD", KEYS[2], unpack(add))
      add = {}
    end
  end
end
if #add > 0 then redis.call("ZADD", KEYS[2], unpack(add)) end
local from = tonumber(ARGV[2])
local last = tonumber(ARGV[3])
while redis.call("ZCOUNT", KEYS[2], last + 1, last + 1) > 0 do last = last + 1 end
-- The window is contiguous by construction; anything outside it cannot be trusted.
redis.call("ZREMRANGEBYSCORE", KEYS[2], "(" .. last, "+inf")
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. from)
redis.call("HSET", KEYS[1], "state", "ready", "from", from, "last", last, "currency", ARGV[4], "exponent", ARGV[5], "loadedAt", ARGV[7])
redis.call("HDEL", KEYS[1], "token")
redis.call("PEXPIRE", KEYS[1], ARGV[6])
if redis.call("EXISTS", KEYS[2]) == 1 then redis.call("PEXPIRE", KEYS[2], ARGV[6]) end
return last
