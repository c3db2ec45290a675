--[[ tree.lua: a document as a lazy tree over its stored text.
  KEYS, ARGV: none of its own (a library; needs prelude.lua and json.lua before it).
  A container is parsed one level at a time and in place: a node records where each child's
  text lies in the source string (nothing is copied) and holds a replacement only for the
  children an operation changed or descended into. Encoding copies each run of untouched
  neighbours as one slice of the source and concatenates once at the end, so a write costs
  about two copies of the document, however large it is and wherever the change is.
  Nodes (src: the text the ranges point into; clean: see json.lua):
    array:  { a = true, n, src, clean, A = {start}, B = {end}, V = {replacement}, O = {ordinal} }
    object: { o = true, src, clean, K = {keys in order}, and by key: KA (key start), KE (key end),
              A, B, V, O as above, RK (key as JSON text, for keys added here) }
    box:    an array node holding at most one element, the document itself (slot 1).
  A slot is an index (arrays, from 1) or a key (objects).
  Defines: new_box(text), new_object(), new_array(), parse_text(text), child_kind, child_text,
  child_node, child_set, child_delete, array_drop, tree_encode(box).
]]
local function new_object()
  return { o = true, K = {}, KA = {}, KE = {}, A = {}, B = {}, V = {}, O = {}, RK = {} }
end

local function new_array()
  return { a = true, n = 0, A = {}, B = {}, V = {}, O = {} }
end

-- Parses the container starting at s[i], one level deep.
local function parse_at(s, i, clean)
  local c = sbyte(s, i)
  local j = skip_ws(s, i + 1) or corrupt("truncated")
  local A, B, O = {}, {}, {}
  local n = 0
  if c == B_LBRACK then
    local node = { a = true, n = 0, src = s, clean = clean, A = A, B = B, V = {}, O = O }
    if sbyte(s, j) == B_RBRACK then return node end
    while true do
      local e = value_end(s, j, clean)
      n = n + 1
      A[n], B[n], O[n] = j, e, n
      j = skip_ws(s, e + 1) or corrupt("truncated array")
      local b = sbyte(s, j)
      if b == B_RBRACK then
        node.n = n
        return node
      end
      if b ~= B_COMMA then corrupt("expected , or ] in an array") end
      j = skip_ws(s, j + 1) or corrupt("truncated array")
    end
  end
  if c ~= B_LBRACE then corrupt("expected a container") end
  local K, KA, KE = {}, {}, {}
  local node = { o = true, src = s, clean = clean, K = K, KA = KA, KE = KE, A = A, B = B, V = {}, O = O, RK = {} }
  if sbyte(s, j) == B_RBRACE then return node end
  local m = 0
  while true do
    if sbyte(s, j) ~= B_QUOTE then corrupt("expected a key") end
    local ke = string_end(s, j, clean)
    local key = ssub(s, j + 1, ke - 1)
    if sfind(key, "\\", 1, true) then key = decode_string(ssub(s, j, ke)) end
    local v = skip_ws(s, ke + 1)
    if not v or sbyte(s, v) ~= B_COLON then corrupt("expected :") end
    v = skip_ws(s, v + 1) or corrupt("truncated object")
    local e = value_end(s, v, clean)
    -- A repeated key keeps its first place and its last value (as JSON.parse); the member
    -- ordinal m keeps the hidden earlier occurrence out of every copied run.
    m = m + 1
    if A[key] == nil then
      n = n + 1
      K[n] = key
    end
    KA[key], KE[key], A[key], B[key], O[key] = j, ke, v, e, m
    j = skip_ws(s, e + 1) or corrupt("truncated object")
    local b = sbyte(s, j)
    if b == B_RBRACE then return node end
    if b ~= B_COMMA then corrupt("expected , or } in an object") end
    j = skip_ws(s, j + 1) or corrupt("truncated object")
  end
end

-- A container given as its own text (an operation's argument).
local function parse_text(text)
  return parse_at(text, skip_ws(text, 1) or corrupt("empty value"), is_clean(text))
end

local function new_box(text)
  local box = { a = true, box = true, n = 0, src = text, A = {}, B = {}, V = {}, O = {} }
  if text then
    local e = #text
    while e > 0 and sbyte(text, e) <= 32 do e = e - 1 end
    box.n, box.A[1], box.B[1], box.O[1] = 1, skip_ws(text, 1) or corrupt("empty document"), e, 1
  end
  return box
end

-- Kind of the child in slot, or nil when there is none.
local function child_kind(node, slot)
  local v = node.V[slot]
  if v ~= nil then return json_kind(v) end
  local a = node.A[slot]
  if a == nil then return nil end
  return KINDS[sbyte(node.src, a)] or "number"
end

local encode_into

-- JSON text of the child in slot, or nil.
local function child_text(node, slot)
  local v = node.V[slot]
  if v ~= nil then
    if type(v) == "string" then return v end
    local out = {}
    encode_into(v, out)
    return tconcat(out)
  end
  local a = node.A[slot]
  if a == nil then return nil end
  return ssub(node.src, a, node.B[slot])
end

-- The container in slot, parsed (once) and kept there so that changes to it are encoded.
local function child_node(node, slot)
  local v = node.V[slot]
  if type(v) == "table" then return v end
  local child
  if v ~= nil then
    child = parse_text(v)
  else
    local clean = node.clean
    if clean == nil then
      clean = is_clean(node.src)
      node.clean = clean
    end
    child = parse_at(node.src, node.A[slot], clean)
  end
  node.V[slot] = child
  return child
end

-- value: JSON text or a node. Objects get the key appended when it is new.
local function child_set(node, slot, value)
  if node.o then
    if node.A[slot] == nil and node.V[slot] == nil then
      local K = node.K
      K[#K + 1] = slot
      node.RK[slot] = json_string(slot)
    end
  elseif node.box then
    node.n = 1
  end
  node.V[slot] = value
end

-- Removes `count` array elements starting at index `from`.
local function array_drop(node, from, count)
  local A, B, V, O, n = node.A, node.B, node.V, node.O, node.n
  for i = from, n - count do
    local j = i + count
    A[i], B[i], V[i], O[i] = A[j], B[j], V[j], O[j]
  end
  for i = n - count + 1, n do
    A[i], B[i], V[i], O[i] = nil, nil, nil, nil
  end
  node.n = n - count
end

local function child_delete(node, slot)
  if not node.o then return array_drop(node, slot, 1) end
  local K = node.K
  for i = 1, #K do
    if K[i] == slot then
      tremove(K, i)
      break
    end
  end
  node.A[slot], node.B[slot], node.V[slot], node.O[slot] = nil, nil, nil, nil
  node.KA[slot], node.KE[slot], node.RK[slot] = nil, nil, nil
end

encode_into = function(node, out)
  local src, A, B, V, O = node.src, node.A, node.B, node.V, node.O
  if node.a then
    local n = node.n
    if not node.box then out[#out + 1] = "[" end
    local i = 1
    while i <= n do
      if i > 1 then out[#out + 1] = "," end
      local v = V[i]
      if v == nil then
        local j = i
        while j < n and V[j + 1] == nil and O[j + 1] == O[j] + 1 do j = j + 1 end
        out[#out + 1] = ssub(src, A[i], B[j])
        i = j + 1
      else
        if type(v) == "string" then out[#out + 1] = v else encode_into(v, out) end
        i = i + 1
      end
    end
    if not node.box then out[#out + 1] = "]" end
    return
  end
  local K, KA, KE, RK = node.K, node.KA, node.KE, node.RK
  out[#out + 1] = "{"
  local i, n = 1, #K
  while i <= n do
    if i > 1 then out[#out + 1] = "," end
    local k = K[i]
    local v = V[k]
    if v == nil then
      local j = i
      while j < n and V[K[j + 1]] == nil and O[K[j + 1]] == O[K[j]] + 1 do j = j + 1 end
      out[#out + 1] = ssub(src, KA[k], B[K[j]])
      i = j + 1
    else
      out[#out + 1] = RK[k] or ssub(src, KA[k], KE[k])
      out[#out + 1] = ":"
      if type(v) == "string" then out[#out + 1] = v else encode_into(v, out) end
      i = i + 1
    end
  end
  out[#out + 1] = "}"
end

-- The document's JSON text, or nil when it was deleted.
local function tree_encode(box)
  if box.n == 0 then return nil end
  local out = {}
  encode_into(box, out)
  return tconcat(out)
end
