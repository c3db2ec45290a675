--[[ closeSession.lua: removes a session of one customer (logout, revocation, eviction).
  All keys are the customer's (hash tag {c:<id>}).
  KEYS[1]: session index, KEYS[2]: session state (see openSession.lua), KEYS[3]: its document
  ARGV[1]: session id
  Returns: the session's state ("<absolute> <access hash> <refresh hash>") so the caller deletes
           its tokens, "" when it had an index entry but no state, or nil when there was no such
           session.
]]
local index, state, doc, id = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local current = redis.call("HGET", state, id)
local indexed = redis.call("ZREM", index, id)
redis.call("HDEL", state, id)
redis.call("DEL", doc)
if current then return current end
if indexed == 1 then return "" end
return nil
