--[[ get.lua: reads the value at a path of a document kept as JSON text (lua backend).
  KEYS[1]: the document key (a string key holding JSON text).
  ARGV[1]: the path as a JSON array of segments, e.g. ["accounts",0,"balance"] (never the root:
           whole documents are read with a plain GET).
  Returns: the JSON text of the value, byte for byte as stored, or nil when the document or
           the path does not exist. Errors: "DOCSTORE <Reason> <message>".
]]
return protected(function()
  local doc = redis.call("GET", KEYS[1])
  if not doc then return false end
  local parent, slot = locate(new_box(doc), cjson.decode(ARGV[1]), false)
  if parent == nil then return false end
  return child_text(parent, slot) or false
end)
