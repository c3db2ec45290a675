--[[ prelude.lua: shared helpers, included first into every DocumentStore script.
  KEYS, ARGV, return value: none of its own (a library).
  Defines: docerr(reason, message) to fail an operation with a typed reason;
  protected(fn, on_error) which runs fn and turns such failures into the error reply
  "DOCSTORE <Reason> <message>" that DocumentStore.ts maps to DocumentStoreError;
  a_kind(kind) and path_text(segs, upto) for readable error messages; the string and table
  functions as locals and the byte codes B_QUOTE, B_LBRACE, ... of JSON punctuation.
]]
local sbyte, ssub, sfind, smatch, sformat, srep = string.byte, string.sub, string.find, string.match, string.format, string.rep
local tconcat, tremove = table.concat, table.remove
-- Speed: everything here is rebuilt on every call (a script keeps no state between calls), so
-- the libraries avoid constant tables, which cost more to build than the comparisons they save.
local B_QUOTE, B_LBRACE, B_RBRACE, B_LBRACK, B_RBRACK, B_COMMA, B_COLON = 34, 123, 125, 91, 93, 44, 58

local function docerr(reason, message)
  error({ docstore = reason, msg = message }, 0)
end

local function protected(fn, on_error)
  local ok, res = pcall(fn)
  if ok then return res end
  if on_error then on_error() end
  if type(res) == "table" then
    if res.docstore then return redis.error_reply("DOCSTORE " .. res.docstore .. " " .. res.msg) end
    if res.err then return redis.error_reply(res.err) end
  end
  res = tostring(res)
  -- A failed redis.call ("ERR ...", "WRONGTYPE ...") passes through as it is.
  if smatch(res, "^%u+ ") then return redis.error_reply(res) end
  -- Any other Lua error means the stored text is not the JSON this store writes.
  return redis.error_reply("DOCSTORE CorruptDocument could not process the stored text: " .. res)
end

-- "an object", "a number", "null": for error messages.
local function a_kind(kind)
  if kind == "object" or kind == "array" then return "an " .. kind end
  if kind == "null" then return kind end
  return "a " .. kind
end

-- "$.a[0]" style text of the first `upto` path segments, for error messages.
local function path_text(segs, upto)
  local out = { "$" }
  for i = 1, upto do
    local s = segs[i]
    if type(s) == "number" then
      out[#out + 1] = "[" .. sformat("%d", s) .. "]"
    elseif smatch(s, "^[%a_][%w_]*$") then
      out[#out + 1] = "." .. s
    else
      out[#out + 1] = "[" .. cjson.encode(s) .. "]"
    end
  end
  return tconcat(out)
end
