--[[ document.lua: the write operations on a document held as a lazy tree (tree.lua).
  KEYS, ARGV, return value: none of its own (a library; needs prelude.lua, json.lua, tree.lua, decimal.lua).
  A path is a list of segments: strings are object keys, numbers array indexes (from 0).
  Defines the table Doc: locate(box, segs, create) -> parent node, slot; op_set, op_merge, op_incr,
  op_append, op_delete, each returning its result as text ("" when it has none); and
  guard_passes(box, segs, below) -> whether the string at segs is missing or sorts before `below`.
]]
local Doc = {}
do
  local new_object, new_array, parse_text, child_kind, child_text = Tree.new_object, Tree.new_array, Tree.parse_text, Tree.child_kind, Tree.child_text
  local child_node, child_set, child_delete = Tree.child_node, Tree.child_set, Tree.child_delete
  local array_push, array_drop, object_keys = Tree.array_push, Tree.array_drop, Tree.object_keys
  local json_kind = Json.json_kind
  local dec_add = Decimal.dec_add

  -- Walks to the slot that holds the value at segs. With `create`, missing objects on the way
  -- are made and a wrong turn is an error; without, a missing place or wrong turn returns nil.
  local function locate(box, segs, create)
    local parent, slot = box, 1
    for i = 1, #segs do
      local seg = segs[i]
      local kind = child_kind(parent, slot)
      local cur
      if kind == "object" or kind == "array" then
        cur = child_node(parent, slot)
      elseif kind == nil then
        if not create then return nil end
        if type(seg) == "number" then
          docerr("PathNotFound", path_text(segs, i) .. " does not exist: array elements are not created by a path")
        end
        cur = new_object()
        child_set(parent, slot, cur)
      else
        if not create then return nil end
        docerr("TypeMismatch", path_text(segs, i - 1) .. " is " .. a_kind(kind) .. ", so it has no " .. path_text(segs, i))
      end
      if type(seg) == "number" then
        if not cur.a then
          if not create then return nil end
          docerr("TypeMismatch", path_text(segs, i - 1) .. " is an object, not an array")
        end
        if seg >= cur.n then
          if not create then return nil end
          docerr("PathNotFound", path_text(segs, i) .. " does not exist: the array has " .. cur.n .. " elements")
        end
        seg = seg + 1
      elseif not cur.o then
        if not create then return nil end
        docerr("TypeMismatch", path_text(segs, i - 1) .. " is an array, not an object")
      end
      parent, slot = cur, seg
    end
    return parent, slot
  end

  local function op_set(box, segs, value)
    local parent, slot = locate(box, segs, true)
    child_set(parent, slot, value)
    return ""
  end

  local function op_delete(box, segs)
    local parent, slot = locate(box, segs, false)
    if parent == nil or child_kind(parent, slot) == nil then return "0" end
    child_delete(parent, slot)
    return "1"
  end

  -- RFC 7386: an object patch merges key by key (null deletes), anything else replaces.
  local function merge_into(parent, slot, patch)
    if json_kind(patch) ~= "object" then
      child_set(parent, slot, patch)
      return
    end
    local target
    if child_kind(parent, slot) == "object" then
      target = child_node(parent, slot)
    else
      target = new_object()
      child_set(parent, slot, target)
    end
    local p = parse_text(patch)
    local keys, n = object_keys(p)
    for i = 1, n do
      local k = keys[i]
      local value = child_text(p, k)
      if value == "null" then
        if child_kind(target, k) ~= nil then child_delete(target, k) end
      else
        merge_into(target, k, value)
      end
    end
  end

  local function op_merge(box, segs, patch)
    if patch == "null" then
      op_delete(box, segs)
      return ""
    end
    local parent, slot = locate(box, segs, true)
    merge_into(parent, slot, patch)
    return ""
  end

  local function op_incr(box, segs, by)
    local parent, slot = locate(box, segs, true)
    local kind = child_kind(parent, slot)
    local result
    if kind == nil then
      result = dec_add("0", by)
    elseif kind == "number" then
      result = dec_add(child_text(parent, slot), by)
    else
      docerr("TypeMismatch", "cannot increment " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not a number")
    end
    child_set(parent, slot, result)
    return result
  end

  -- values: the JSON text of an array; keep: "" or the most elements to keep (the newest).
  local function op_append(box, segs, values, keep)
    local parent, slot = locate(box, segs, true)
    local kind = child_kind(parent, slot)
    local arr
    if kind == nil then
      arr = new_array()
      child_set(parent, slot, arr)
    elseif kind == "array" then
      arr = child_node(parent, slot)
    else
      docerr("TypeMismatch", "cannot append to " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not an array")
    end
    local add = parse_text(values)
    for i = 1, add.n do array_push(arr, child_text(add, i)) end
    local max = tonumber(keep)
    if max and arr.n > max then array_drop(arr, 1, arr.n - max) end
    return tostring(arr.n)
  end

  -- The guard of `apply`: passes when nothing is at segs or the string there sorts before
  -- `below` (byte by byte, as fixed-width positions and revisions are compared).
  local function guard_passes(box, segs, below)
    local parent, slot = locate(box, segs, false)
    if parent == nil then return true end
    local kind = child_kind(parent, slot)
    if kind == nil then return true end
    if kind ~= "string" then
      docerr("TypeMismatch", "cannot guard on " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not a string")
    end
    return Json.decode_string(child_text(parent, slot)) < below
  end

  Doc.locate, Doc.op_set, Doc.op_merge, Doc.op_incr = locate, op_set, op_merge, op_incr
  Doc.op_append, Doc.op_delete, Doc.guard_passes = op_append, op_delete, guard_passes
end
