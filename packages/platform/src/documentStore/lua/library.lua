--[[ library.lua: the lua backend's operations as a Redis function library (Redis 7 FUNCTION LOAD),
  so the JSON scanner, tree and decimal code are compiled once per server, not on every call as a
  script (EVAL/EVALSHA runs the whole file each time). platform FunctionLibrary.ts adds the
  `#!lua name=...` line and sets FUNCTION_SUFFIX to a hash of this text, so a server can hold the
  libraries of two versions of the code at once (a rolling deployment) without one replacing
  the other's.
  Registers docstore_apply<suffix>: KEYS, ARGV and reply as apply.lua's.
  Redis 7.0 loads a library in an environment without the standard libraries (`string` is not
  there yet), so the includes are built by the first call, once, and kept.
]]
local function build()
--- @include "includes/prelude"
--- @include "includes/json"
--- @include "includes/tree"
--- @include "includes/decimal"
--- @include "includes/document"
--- @include "includes/applyOps"
  return apply_ops
end

local apply
redis.register_function("docstore_apply" .. FUNCTION_SUFFIX, function(keys, args)
  if apply == nil then apply = build() end
  return apply(keys, args)
end)
