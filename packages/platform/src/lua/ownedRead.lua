-- Reads new entries of a stream partition for its owner only, renewing the ownership lease in
-- the same step (OwnedPartitions.ts). A process whose lease lapsed (it was paused, or cut off)
-- cannot take another entry from the group: the check and the read are one atomic step.
-- KEYS[1]  the stream partition
-- KEYS[2]  its ownership lease for the group (same hash tag as KEYS[1])
-- ARGV[1]  consumer group
-- ARGV[2]  consumer (the lease's holder)
-- ARGV[3]  entries to read at most
-- ARGV[4]  lease time from now, in ms
-- Returns {0} when ARGV[2] does not hold the lease; {1, entries} with new entries (XREADGROUP's
-- [id, fields] pairs); {2, last id} when there is nothing new (the newest entry id, "0-0" when
-- the stream is empty), for a blocking XREAD to wait after.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {0} end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if reply and reply[1] and #reply[1][2] > 0 then return {1, reply[1][2]} end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then return {2, last[1][1]} end
return {2, '0-0'}
