--[[ beginLoad.lua: an account's prefetch starts. Whatever the window held is dropped and the
  window is marked "loading" under a token; from now on CDC buffers new entries into it, so an
  entry committed after the load's snapshot is not lost (see TransactionCache.ts).
  KEYS[1]: the window's metadata (hash)   KEYS[2]: its entries (sorted set by entry number)
  ARGV[1]: the load's token               ARGV[2]: lease (ms): a load that dies is forgotten
  Returns: 1.
]]
redis.call("DEL", KEYS[1], KEYS[2])
redis.call("HSET", KEYS[1], "state", "loading", "token", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1
