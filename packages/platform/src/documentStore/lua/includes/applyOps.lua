--[[ applyOps.lua: the body of `apply` (see apply.lua for KEYS, ARGV and the reply), as the
  function apply_ops(KEYS, ARGV). A library (needs prelude, json, tree, decimal, document before
  it): apply.lua calls it as a script (EVAL), library.lua registers it as a Redis function (FCALL)
  so the libraries above are compiled once per server instead of once per call.
]]
local function apply_ops(KEYS, ARGV)
  -- A function library keeps its state between calls: forget the texts seen by the last one.
  Json.reset()
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
end
