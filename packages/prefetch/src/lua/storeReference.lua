--[[ storeReference.lua: stores a reference data set read from PostgreSQL, unless CDC
  invalidated it since the read began (the generation moved on): then the read may predate the
  change, and the next reader loads it again.
  KEYS[1]: the data set's cache (hash: gen, body, loadedAt)
  ARGV[1]: the generation seen before the read   ARGV[2]: the body (JSON)   ARGV[3]: loaded at (ms)
  Returns: 1 when stored, 0 when it was stale.
]]
if (redis.call("HGET", KEYS[1], "gen") or "0") ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "body", ARGV[2], "loadedAt", ARGV[3])
return 1
