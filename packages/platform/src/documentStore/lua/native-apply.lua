--[[ native-apply.lua: applies a list of write operations to one RedisJSON document atomically
  (native backend; includes prelude, json, tree and decimal).
  KEYS[1]: the document key (a RedisJSON key; missing = no document yet).
  KEYS[2]: optional idempotency marker key (same hash tag as KEYS[1]).
  ARGV[1]: the id the marker must not already hold ("" when there is no marker).
  ARGV[2]: the marker's time to live in seconds.
  ARGV[3..]: the operations, four arguments each, exactly as for apply.lua:
             op, path (JSON array of segments), argument, option.
  Returns: {"applied", result...}, {"duplicate"} or {"stale"}, as apply.lua (guards are checked
  before anything is written); errors "DOCSTORE <Reason> <message>".
  Why a script around JSON.*: JSON.SET does not create missing parents, JSON.NUMINCRBY works in
  doubles once a value leaves int64, and several operations plus the marker must be one atomic
  step. Each operation checks before it writes; when one of several operations fails, the
  document is restored from the snapshot taken at the start, so all or nothing is applied.
]]
--- @include "includes/prelude"
--- @include "includes/json"
--- @include "includes/tree"
--- @include "includes/decimal"
local key = KEYS[1]

-- RedisJSON path text: .name for plain names, ["..."] (only \ and " escaped) otherwise.
local function npath(segs, upto)
  local out = { "$" }
  for i = 1, upto do
    local s = segs[i]
    if type(s) == "number" then
      out[i + 1] = "[" .. sformat("%d", s) .. "]"
    elseif smatch(s, "^[%a_][%w_]*$") then
      out[i + 1] = "." .. s
    else
      out[i + 1] = '["' .. s:gsub('[\\"]', "\\%0") .. '"]'
    end
  end
  return tconcat(out)
end

-- Kind of the value at the first `upto` segments, or nil when there is none.
local function kind_at(segs, upto)
  local r = redis.call("JSON.TYPE", key, npath(segs, upto))
  if type(r) == "table" then r = r[1] end
  if type(r) == "table" then r = r.ok end
  if not r then return nil end
  -- RedisJSON tells integers from other numbers; the operations here do not.
  if r == "integer" then return "number" end
  return r
end

-- Raw JSON text of the value at segs (it exists).
local function text_at(segs)
  local r = redis.call("JSON.GET", key, npath(segs, #segs))
  return ssub(r, 2, -2)
end

-- {"k1":{"k2":...inner}} for segs[from..to], all of which must be names.
local function nest(segs, from, to, inner)
  local out = inner
  for i = to, from, -1 do
    if type(segs[i]) == "number" then
      docerr("PathNotFound", path_text(segs, i) .. " does not exist: array elements are not created by a path")
    end
    out = "{" .. cjson.encode(segs[i]) .. ":" .. out .. "}"
  end
  return out
end

-- Makes every parent of the last segment exist (objects are created), or fails without
-- writing anything when a parent is of the wrong kind or an array index is out of range.
local function prepare(segs)
  local n = #segs
  if n == 0 then return end
  local d = n - 1
  local kind = kind_at(segs, d)
  while kind == nil and d > 0 do
    d = d - 1
    kind = kind_at(segs, d)
  end
  if kind == nil then
    nest(segs, 1, n, "null") -- validates every segment before writing
    redis.call("JSON.SET", key, "$", nest(segs, 1, n - 1, "{}"))
    return
  end
  local seg = segs[d + 1]
  if type(seg) == "number" then
    if kind ~= "array" then docerr("TypeMismatch", path_text(segs, d) .. " is " .. a_kind(kind) .. ", not an array") end
    docerr("PathNotFound", path_text(segs, d + 1) .. " does not exist: the index is past the end of the array")
  end
  if kind ~= "object" then
    docerr("TypeMismatch", path_text(segs, d) .. " is " .. a_kind(kind) .. ", so it has no " .. path_text(segs, d + 1))
  end
  if d < n - 1 then
    nest(segs, d + 1, n, "null")
    redis.call("JSON.SET", key, npath(segs, d + 1), nest(segs, d + 2, n - 1, "{}"))
  end
end

local function write(segs, value)
  if not redis.call("JSON.SET", key, npath(segs, #segs), value) then
    docerr("PathNotFound", "could not write " .. path_text(segs, #segs))
  end
end

local function native_fits(text)
  if smatch(text, "^%-?%d+$") then return Decimal.dec_fits_int64(text) end
  return Decimal.dec_fits_double(text)
end

local function op_set(segs, value)
  if kind_at(segs, #segs) == nil then prepare(segs) end
  write(segs, value)
  return ""
end

local function op_delete(segs)
  if #segs == 0 then return redis.call("DEL", key) > 0 and "1" or false end
  return redis.call("JSON.DEL", key, npath(segs, #segs)) > 0 and "1" or false
end

local function op_merge(segs, patch)
  if patch == "null" then
    op_delete(segs)
    return ""
  end
  if Json.json_kind(patch) ~= "object" then return op_set(segs, patch) end
  local kind = kind_at(segs, #segs)
  if kind == nil then prepare(segs) end
  if kind ~= "object" then write(segs, "{}") end
  redis.call("JSON.MERGE", key, npath(segs, #segs), patch)
  return ""
end

local function op_incr(segs, by)
  local kind = kind_at(segs, #segs)
  local result
  if kind == nil then
    result = Decimal.dec_add("0", by)
  elseif kind == "number" then
    result = Decimal.dec_add(text_at(segs), by)
  else
    docerr("TypeMismatch", "cannot increment " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not a number")
  end
  if not native_fits(result) then
    docerr("NotExact", "the sum " .. result .. " at " .. path_text(segs, #segs) ..
      " cannot be stored exactly by RedisJSON (integers must fit 64 bits, decimals 15 digits)")
  end
  if kind == nil then prepare(segs) end
  write(segs, result)
  return result
end

local function op_append(segs, values, keep)
  local add = Tree.parse_text(values)
  local texts = {}
  for i = 1, add.n do texts[i] = Tree.child_text(add, i) end
  local max = tonumber(keep)
  local kind = kind_at(segs, #segs)
  if kind == nil then
    prepare(segs)
    local from = (max and add.n > max) and add.n - max + 1 or 1
    write(segs, "[" .. tconcat(texts, ",", from, add.n) .. "]")
    return tostring(add.n - from + 1)
  end
  if kind ~= "array" then
    docerr("TypeMismatch", "cannot append to " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not an array")
  end
  local path = npath(segs, #segs)
  local len = add.n == 0 and redis.call("JSON.ARRLEN", key, path) or
    redis.call("JSON.ARRAPPEND", key, path, unpack(texts, 1, add.n))
  if type(len) == "table" then len = len[1] end
  if max and len > max then
    redis.call("JSON.ARRTRIM", key, path, len - max, len - 1)
    len = max
  end
  return tostring(len)
end

-- The guard of `apply`, as in document.lua: the string at segs is missing or sorts before `below`.
local function guard_passes(segs, below)
  local kind = kind_at(segs, #segs)
  if kind == nil then return true end
  if kind ~= "string" then
    docerr("TypeMismatch", "cannot guard on " .. path_text(segs, #segs) .. ": it is " .. a_kind(kind) .. ", not a string")
  end
  return Json.decode_string(text_at(segs)) < below
end

local snapshot, snapshot_ttl
local function restore()
  if snapshot == nil then return end
  if snapshot == false then
    redis.call("DEL", key)
    return
  end
  redis.call("JSON.SET", key, "$", snapshot)
  if snapshot_ttl > 0 then redis.call("PEXPIRE", key, snapshot_ttl) end
end

return protected(function()
  local marker = KEYS[2]
  if marker and redis.call("GET", marker) == ARGV[1] then return { "duplicate" } end
  for i = 3, #ARGV, 4 do
    if ARGV[i] == "guard" and not guard_passes(cjson.decode(ARGV[i + 1]), ARGV[i + 2]) then return { "stale" } end
  end
  if #ARGV > 6 then
    snapshot = redis.call("JSON.GET", key)
    snapshot_ttl = redis.call("PTTL", key)
  end
  local results = { "applied" }
  for i = 3, #ARGV, 4 do
    local op, segs, arg = ARGV[i], cjson.decode(ARGV[i + 1]), ARGV[i + 2]
    local r
    if op == "guard" then
      r = "" -- checked above
    elseif op == "set" then
      r = op_set(segs, arg)
    elseif op == "merge" then
      r = op_merge(segs, arg)
    elseif op == "incr" then
      r = op_incr(segs, arg)
    elseif op == "append" then
      r = op_append(segs, arg, ARGV[i + 3])
    elseif op == "delete" then
      r = op_delete(segs)
    else
      docerr("InvalidValue", "unknown operation " .. tostring(op))
    end
    results[#results + 1] = r or "0"
  end
  if marker then redis.call("SET", marker, ARGV[1], "EX", ARGV[2]) end
  return results
end, restore)
