--[[ invalidateReference.lua: a reference data set changed in PostgreSQL (CDC said so): drop the
  cached body and move the generation on, so a read that began before cannot store old data.
  KEYS[1]: the data set's cache (hash: gen, body, loadedAt)
  Returns: the new generation.
]]
local gen = redis.call("HINCRBY", KEYS[1], "gen", 1)
redis.call("HDEL", KEYS[1], "body", "loadedAt")
return gen
