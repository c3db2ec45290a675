-- Moves one stream entry to its dead-letter stream and acknowledges it, atomically, so an
-- entry is never both lost and acknowledged, nor dead-lettered and still pending.
-- KEYS[1]  the stream
-- KEYS[2]  its dead-letter stream (same hash tag as KEYS[1])
-- ARGV[1]  consumer group
-- ARGV[2]  entry id in KEYS[1]
-- ARGV[3]  approximate maximum length of the dead-letter stream
-- ARGV[4…] field, value, … to store (the original fields plus why it failed)
-- Returns the id of the new dead-letter entry.
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
