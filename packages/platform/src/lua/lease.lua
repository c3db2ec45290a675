-- Takes, keeps or gives back a lease: a key that names its holder and lapses unless renewed
-- (the active consumer of a stream, one rebuild of a read model at a time; Lease.ts).
-- KEYS[1]  the lease key
-- ARGV[1]  the holder asking
-- ARGV[2]  how long the lease lasts from now, in ms; "0" gives it back
-- Returns 1 when ARGV[1] holds the lease afterwards (taken or extended), 0 otherwise.
local holder = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
