--[[ apply.lua: applies a list of write operations to one document atomically (lua backend).
  KEYS[1]: the document key (a string key holding JSON text; missing = no document yet).
  KEYS[2]: optional idempotency marker key (same hash tag as KEYS[1]).
  ARGV[1]: the id the marker must not already hold ("" when there is no marker).
  ARGV[2]: the marker's time to live in seconds.
  ARGV[3..]: the operations, four arguments each:
             op ("set" | "merge" | "incr" | "append" | "delete" | "guard"),
             path (JSON array of segments, [] for the root),
             argument (set/merge: JSON value; incr: plain decimal; append: JSON array of values;
                       guard: the string the value at the path must sort before),
             option (append: most elements to keep, "" for no cap).
  Returns: {"applied", result...} with one text result per operation (incr: the new number;
           append: the new length; delete: "1" or "0"; set, merge, guard: ""), {"duplicate"}
           when the marker already holds ARGV[1], or {"stale"} when a guard did not pass
           (nothing written, marker included). Guards are checked before any operation, wherever
           they stand in the list. On an error nothing is written and the reply is
           "DOCSTORE <Reason> <message>".
  The document is parsed lazily (tree.lua), changed in memory and written once, so a failing
  operation leaves it untouched; SET ... KEEPTTL keeps an expiry set by the document's owner.
]]
--- @include "includes/prelude"
--- @include "includes/json"
--- @include "includes/tree"
--- @include "includes/decimal"
--- @include "includes/document"
return protected(function()
  local marker = KEYS[2]
  if marker and redis.call("GET", marker) == ARGV[1] then return { "duplicate" } end

  local key = KEYS[1]
  local box = Tree.new_box(redis.call("GET", key) or nil)
  local results, changed = { "applied" }, false

  for i = 3, #ARGV, 4 do
    if ARGV[i] == "guard" and not Doc.guard_passes(box, cjson.decode(ARGV[i + 1]), ARGV[i + 2]) then
      return { "stale" }
    end
  end

  for i = 3, #ARGV, 4 do
    local op, segs, arg = ARGV[i], cjson.decode(ARGV[i + 1]), ARGV[i + 2]
    local r
    if op == "guard" then
      r = false -- checked above; writes nothing
      results[#results + 1] = ""
    elseif op == "set" then
      r = Doc.op_set(box, segs, arg)
    elseif op == "merge" then
      r = Doc.op_merge(box, segs, arg)
    elseif op == "incr" then
      r = Doc.op_incr(box, segs, arg)
    elseif op == "append" then
      r = Doc.op_append(box, segs, arg, ARGV[i + 3])
    elseif op == "delete" then
      r = Doc.op_delete(box, segs)
      if r == "0" then r = false end
    else
      docerr("InvalidValue", "unknown operation " .. tostring(op))
    end
    if op ~= "guard" then
      if r then changed = true end
      results[#results + 1] = r or "0"
    end
  end

  if changed then
    local text = Tree.tree_encode(box)
    if text == nil then
      redis.call("DEL", key)
    else
      redis.call("SET", key, text, "KEEPTTL")
    end
  end
  if marker then redis.call("SET", marker, ARGV[1], "EX", ARGV[2]) end
  return results
end)
