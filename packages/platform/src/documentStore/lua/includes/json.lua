--[[ json.lua: scanning JSON text without decoding it (lossless by construction).
  KEYS, ARGV, return value: none of its own (a library; needs prelude.lua before it).
  Why not cjson: Redis 7.0's cjson decodes [] and {} alike (and writes {} back) and writes
  numbers with 14 significant digits, so 12345678901234567 would come back as 1.2345678901235e+16.
  Here values are never decoded: the scanner finds where each value starts and ends, so the
  text of everything an operation does not touch is copied back byte for byte.
  Defines the table Json: skip_ws(s, i), is_clean(s), string_end(s, i, clean), value_end(s, i, clean),
  decode_string(raw) (object keys only), json_string(s), json_kind(v), kind_of_byte(b), corrupt(what),
  reset() (forgets which texts were found clean).
]]
local Json = {}
do
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
  -- A function library (library.lua) keeps CLEAN between calls: each call starts afresh.
  local function reset() CLEAN = {} end
  local function count_char(s, ch)
    local n, j = 0, sfind(s, ch, 1, true)
    while j do
      n = n + 1
      j = sfind(s, ch, j + 1, true)
    end
    return n
  end

  local function count_brackets(s)
    return count_char(s, "{") + count_char(s, "}") + count_char(s, "[") + count_char(s, "]")
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
    local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
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

  local function escape_char(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    return sformat("\\u%04x", sbyte(c))
  end

  -- A Lua string as a JSON string literal (for keys this store creates).
  local function json_string(s)
    return '"' .. (s:gsub('[%c"\\]', escape_char)) .. '"'
  end

  -- Kind of a JSON value by its first byte, or nil when no value starts so.
  local function kind_of_byte(b)
    if b == B_QUOTE then return "string" end
    if b == B_LBRACE then return "object" end
    if b == B_LBRACK then return "array" end
    if b == 45 or (b and b >= 48 and b <= 57) then return "number" end -- - 0..9
    if b == 116 or b == 102 then return "boolean" end -- t f
    if b == 110 then return "null" end
    return nil
  end

  -- "object" | "array" | "string" | "number" | "boolean" | "null" of JSON text or a parsed node.
  local function json_kind(v)
    if type(v) == "table" then return v.a and "array" or "object" end
    return kind_of_byte(sbyte(v, 1)) or corrupt("unexpected " .. ssub(v, 1, 10))
  end

  Json.corrupt, Json.skip_ws, Json.is_clean, Json.string_end = corrupt, skip_ws, is_clean, string_end
  Json.value_end, Json.decode_string, Json.json_string, Json.json_kind = value_end, decode_string, json_string, json_kind
  Json.kind_of_byte, Json.reset = kind_of_byte, reset
end
