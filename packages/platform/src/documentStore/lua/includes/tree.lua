--[[ tree.lua: a document as a lazy tree over its stored text.
  KEYS, ARGV, return value: none of its own (a library; needs prelude.lua and json.lua before it).
  A container is parsed one level at a time and in place: a node records where each child's
  text lies in the source string (nothing is copied) and holds a replacement only for the
  children an operation changed or descended into. Encoding copies each run of untouched
  neighbours as one slice of the source and concatenates once at the end, so a write costs
  about two copies of the document, however large it is and wherever the change is.
  Node: { a = true (array) | o = true (object), n = children, src = text the positions point
  into, clean = see json.lua, P = positions, V = { [i] = replacement: JSON text or a node },
  K = { [i] = key } (objects) }. P holds per child i, from P[W*(i-1)+1]: for arrays (W = 3)
  value start, value end, ordinal; for objects (W = 5) key start, key end, value start, value
  end, ordinal. The ordinal (place in the source) tells which neighbours can be copied as one
  run. A box is an array node holding at most one element, the document itself (slot 1).
  A slot is an index from 1 (arrays) or a key (objects, found by a linear search from the end:
  objects in documents are small, and building a map on every call would cost more).
  Defines the table Tree: new_box(text), new_object(), new_array(), parse_text(text),
  child_kind, child_text, child_node, child_set, child_delete, array_push, array_drop,
  object_keys, tree_encode(box).
]]
local Tree = {}
do
  local corrupt, skip_ws, is_clean, string_end, value_end = Json.corrupt, Json.skip_ws, Json.is_clean, Json.string_end, Json.value_end
  local decode_string, json_string, json_kind, kind_of_byte = Json.decode_string, Json.json_string, Json.json_kind, Json.kind_of_byte

  local function new_object() return { o = true, n = 0, P = {}, V = {}, K = {} } end
  local function new_array() return { a = true, n = 0, P = {}, V = {} } end

  -- Parses the container starting at s[i], one level deep.
  local function parse_at(s, i, clean)
    local c = sbyte(s, i)
    local j = skip_ws(s, i + 1) or corrupt("truncated")
    local P, n, p = {}, 0, 0
    if c == B_LBRACK then
      local node = { a = true, n = 0, src = s, clean = clean, P = P, V = {} }
      if sbyte(s, j) == B_RBRACK then return node end
      while true do
        local e = value_end(s, j, clean)
        n = n + 1
        P[p + 1], P[p + 2], P[p + 3] = j, e, n
        p = p + 3
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
    local K = {}
    local node = { o = true, n = 0, src = s, clean = clean, P = P, V = {}, K = K }
    if sbyte(s, j) == B_RBRACE then return node end
    while true do
      if sbyte(s, j) ~= B_QUOTE then corrupt("expected a key") end
      local ke = string_end(s, j, clean)
      local key = ssub(s, j + 1, ke - 1)
      if sfind(key, "\\", 1, true) then key = decode_string(ssub(s, j, ke)) end
      local v = skip_ws(s, ke + 1)
      if not v or sbyte(s, v) ~= B_COLON then corrupt("expected :") end
      v = skip_ws(s, v + 1) or corrupt("truncated object")
      local e = value_end(s, v, clean)
      n = n + 1
      K[n] = key
      P[p + 1], P[p + 2], P[p + 3], P[p + 4], P[p + 5] = j, ke, v, e, n
      p = p + 5
      j = skip_ws(s, e + 1) or corrupt("truncated object")
      local b = sbyte(s, j)
      if b == B_RBRACE then
        node.n = n
        return node
      end
      if b ~= B_COMMA then corrupt("expected , or } in an object") end
      j = skip_ws(s, j + 1) or corrupt("truncated object")
    end
  end

  -- A container given as its own text (an operation's argument).
  local function parse_text(text)
    return parse_at(text, skip_ws(text, 1) or corrupt("empty value"), is_clean(text))
  end

  local function new_box(text)
    local box = { a = true, box = true, n = 0, src = text, P = {}, V = {} }
    if text then
      local e = #text
      while e > 0 and sbyte(text, e) <= 32 do e = e - 1 end
      box.n, box.P[1], box.P[2], box.P[3] = 1, skip_ws(text, 1) or corrupt("empty document"), e, 1
    end
    return box
  end

  -- Index of the child in slot, or nil. A repeated key is found at its last occurrence, the
  -- one JSON.parse keeps (the earlier ones stay in the text, unused).
  local function index_of(node, slot)
    if not node.o then
      if slot >= 1 and slot <= node.n then return slot end
      return nil
    end
    local K = node.K
    for i = node.n, 1, -1 do
      if K[i] == slot then return i end
    end
    return nil
  end

  -- Start and end of the child's value in node.src (it has no replacement).
  local function value_range(node, i)
    local P = node.P
    if node.o then return P[5 * i - 2], P[5 * i - 1] end
    return P[3 * i - 2], P[3 * i - 1]
  end

  -- Kind of the child in slot, or nil when there is none.
  local function child_kind(node, slot)
    local i = index_of(node, slot)
    if i == nil then return nil end
    local v = node.V[i]
    if v ~= nil then return json_kind(v) end
    local a = value_range(node, i)
    return kind_of_byte(sbyte(node.src, a)) or corrupt("unexpected " .. ssub(node.src, a, a + 9))
  end

  local encode_into

  -- JSON text of the child in slot, or nil.
  local function child_text(node, slot)
    local i = index_of(node, slot)
    if i == nil then return nil end
    local v = node.V[i]
    if v == nil then return ssub(node.src, value_range(node, i)) end
    if type(v) == "string" then return v end
    local out = {}
    encode_into(v, out)
    return tconcat(out)
  end

  -- The container in slot (it exists), parsed once and kept there so its changes are encoded.
  local function child_node(node, slot)
    local i = index_of(node, slot)
    local v = node.V[i]
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
      child = parse_at(node.src, (value_range(node, i)), clean)
    end
    node.V[i] = child
    return child
  end

  -- value: JSON text or a node. An object gets a new key appended; a box its document.
  local function child_set(node, slot, value)
    local i = index_of(node, slot)
    if i == nil then
      i = node.n + 1
      node.n = i
      if node.o then node.K[i] = slot end
    end
    node.V[i] = value
  end

  local function array_push(node, value)
    local n = node.n + 1
    node.n, node.V[n] = n, value
  end

  -- Removes `count` children starting at index `from` (arrays, and objects through child_delete).
  local function array_drop(node, from, count)
    local P, V, K, n = node.P, node.V, node.K, node.n
    local w = node.o and 5 or 3
    for i = from, n - count do
      local j = i + count
      V[i] = V[j]
      if K then K[i] = K[j] end
      for x = 1, w do P[w * (i - 1) + x] = P[w * (j - 1) + x] end
    end
    for i = n - count + 1, n do
      V[i] = nil
      if K then K[i] = nil end
      for x = 1, w do P[w * (i - 1) + x] = nil end
    end
    node.n = n - count
  end

  local function child_delete(node, slot)
    array_drop(node, index_of(node, slot), 1)
  end

  local function object_keys(node)
    return node.K, node.n
  end

  encode_into = function(node, out)
    local src, P, V, K, n = node.src, node.P, node.V, node.K, node.n
    local object = node.o
    local w = object and 5 or 3
    if not node.box then out[#out + 1] = object and "{" or "[" end
    local i = 1
    while i <= n do
      if i > 1 then out[#out + 1] = "," end
      local v = V[i]
      if v == nil then
        -- Untouched neighbours that were neighbours in the source: one slice.
        local j = i
        while j < n and V[j + 1] == nil and P[w * (j + 1)] == P[w * j] + 1 do j = j + 1 end
        out[#out + 1] = ssub(src, P[w * (i - 1) + 1], P[w * j - 1])
        i = j + 1
      else
        if object then
          local ks = P[5 * i - 4]
          out[#out + 1] = ks and ssub(src, ks, P[5 * i - 3]) or json_string(K[i])
          out[#out + 1] = ":"
        end
        if type(v) == "string" then out[#out + 1] = v else encode_into(v, out) end
        i = i + 1
      end
    end
    if not node.box then out[#out + 1] = object and "}" or "]" end
  end

  -- The document's JSON text, or nil when it was deleted.
  local function tree_encode(box)
    if box.n == 0 then return nil end
    local out = {}
    encode_into(box, out)
    return tconcat(out)
  end

  Tree.new_box, Tree.new_object, Tree.new_array, Tree.parse_text = new_box, new_object, new_array, parse_text
  Tree.child_kind, Tree.child_text, Tree.child_node, Tree.child_set = child_kind, child_text, child_node, child_set
  Tree.child_delete, Tree.array_push, Tree.array_drop, Tree.object_keys = child_delete, array_push, array_drop, object_keys
  Tree.tree_encode = tree_encode
end
