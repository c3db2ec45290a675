--[[ deleteIfEquals.lua: deletes a key only while it still holds the expected value (a username
  index entry that still points to the customer who gave the username up).
  KEYS[1]: the key, ARGV[1]: the expected value
  Returns: 1 deleted, 0 not.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
