--[[ json.lua: scanning JSON text without decoding it (lossless by construction).
  KEYS, ARGV: none of its own (a library; needs prelude.lua before it).
  Why not cjson: Redis 7.0's cjson decodes [] and {} alike (and writes {} back) and writes
  numbers with 14 significant digits, so 12345678901234567 would come back as 1.2345678901235e+16.
  Here values are never decoded: the scanner finds where each value starts and ends, so the
  text of everything an operation does not touch is copied back byte for byte.
  Defines: skip_ws(s, i), is_clean(s), CLEAN, string_end(s, i, clean), value_end(s, i, clean),
  decode_string(raw) (object keys only), json_string(s), json_kind(v), KINDS, corrupt(what).
]]
local B_QUOTE, B_LBRACE, B_RBRACE, B_LBRACK, B_RBRACK, B_COMMA, B_COLON = 34, 123, 125, 91, 93, 44, 58

local function corrupt(what)
  docerr("CorruptDocument", "stored text is not valid JSON: " .. what)
end

-- Index of the next non-blank byte at or after i (nil at the end).
local function skip_ws(s, i)
  local b = sbyte(s, i)
  if b and b > 32 then return i end
  return sfind(s, "[^ \t\r\n]", i)
end

-- Speed: scanning JSON token by token in Lua costs about 100 us for a 7 KB document. When no
-- string of a text holds a bracket or an escaped quote ("clean", the usual case), the C
-- pattern %b{} / %b[] finds the end of a container and a plain find the end of a string.
-- Cleanness is decided once per text (strings are stripped with %b"", also in C, and the
-- brackets counted before and after) and inherited by the containers parsed out of it.
local CLEAN = {}
local BRACKET_CHARS = { "{", "}", "[", "]" }

local function count_brackets(s)
  local n = 0
  for c = 1, 4 do
    local ch = BRACKET_CHARS[c]
    local j = sfind(s, ch, 1, true)
    while j do
      n = n + 1
      j = sfind(s, ch, j + 1, true)
    end
  end
  return n
end

local function is_clean(s)
  local known = CLEAN[s]
  if known ~= nil then return known end
  -- \" also catches a string ending in \\: conservative, never wrong.
  local clean = not sfind(s, '\\"', 1, true) and count_brackets(s) == count_brackets((string.gsub(s, '%b""', "")))
  CLEAN[s] = clean
  return clean
end

-- i is at an opening quote; returns the index of the closing one.
local function string_end(s, i, clean)
  if clean then return sfind(s, '"', i + 1, true) or corrupt("unterminated string") end
  local j = i + 1
  while true do
    local k = sfind(s, '["\\]', j)
    if not k then corrupt("unterminated string") end
    if sbyte(s, k) == B_QUOTE then return k end
    j = k + 2
  end
end

-- i is at the first byte of a value; returns the index of its last byte.
local function value_end(s, i, clean)
  local c = sbyte(s, i)
  if c == B_QUOTE then return string_end(s, i, clean) end
  if c == B_LBRACE or c == B_LBRACK then
    if clean then
      local _, e = sfind(s, c == B_LBRACE and "^%b{}" or "^%b[]", i)
      return e or corrupt("unterminated container")
    end
    local depth, j = 0, i
    while true do
      local k = sfind(s, '[%[%]{}"]', j)
      if not k then corrupt("unterminated container") end
      local b = sbyte(s, k)
      if b == B_QUOTE then
        j = string_end(s, k, false) + 1
      elseif b == B_LBRACE or b == B_LBRACK then
        depth, j = depth + 1, k + 1
      else
        depth = depth - 1
        if depth == 0 then return k end
        j = k + 1
      end
    end
  end
  local k = sfind(s, "[,%]}%s]", i)
  if k == i or c == nil then corrupt("missing value") end
  return (k or #s + 1) - 1
end

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

-- Decodes a JSON string literal (object keys only: values are never decoded).
local function decode_string(raw)
  local body = ssub(raw, 2, -2)
  if not sfind(body, "\\", 1, true) then return body end
  local out, i = {}, 1
  while true do
    local k = sfind(body, "\\", i, true)
    if not k then
      out[#out + 1] = ssub(body, i)
      return tconcat(out)
    end
    out[#out + 1] = ssub(body, i, k - 1)
    local c = ssub(body, k + 1, k + 1)
    if c == "u" then
      local cp = tonumber(ssub(body, k + 2, k + 5), 16) or corrupt("bad \\u escape")
      i = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF and ssub(body, i, i + 1) == "\\u" then
        local lo = tonumber(ssub(body, i + 2, i + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp, i = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00), i + 6
        end
      end
      out[#out + 1] = utf8_char(cp)
    else
      out[#out + 1] = ESCAPES[c] or corrupt("bad escape")
      i = k + 2
    end
  end
end

local STRING_ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape_char(c)
  return STRING_ESCAPES[c] or sformat("\\u%04x", sbyte(c))
end

-- A Lua string as a JSON string literal (for keys this store creates).
local function json_string(s)
  return '"' .. (s:gsub('[%c"\\]', escape_char)) .. '"'
end

local KINDS = { [B_LBRACE] = "object", [B_LBRACK] = "array", [B_QUOTE] = "string", [116] = "boolean", [102] = "boolean", [110] = "null" }

-- "object" | "array" | "string" | "number" | "boolean" | "null" of JSON text or a parsed node.
local function json_kind(v)
  if type(v) == "table" then return v.a and "array" or "object" end
  return KINDS[sbyte(v, 1)] or "number"
end
