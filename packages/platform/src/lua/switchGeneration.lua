-- Moves the readers of a read model to another generation, only if the pointer still holds the
-- generation the caller built from, and tells every process at once (ReadModel.ts).
-- KEYS[1]  the read model's pointer (global:readmodel:<name>); missing means generation 1
-- ARGV[1]  the generation expected now
-- ARGV[2]  the new generation
-- ARGV[3]  the pub/sub channel of switch notices
-- ARGV[4]  the notice ("<name> <generation>")
-- Returns 1 when switched, 0 when the pointer held another generation (nothing changed).
local current = redis.call('GET', KEYS[1]) or '1'
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
