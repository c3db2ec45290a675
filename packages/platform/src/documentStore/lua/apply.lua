--[[ apply.lua: applies a list of write operations to one document atomically (lua backend).
  KEYS[1]: the document key (a string key holding JSON text; missing = no document yet).
  KEYS[2]: optional idempotency marker key (same hash tag as KEYS[1]).
  ARGV[1]: the id the marker must not already hold ("" when there is no marker).
  ARGV[2]: the marker's time to live in seconds.
  ARGV[3..]: the operations, four arguments each:
             op ("set" | "merge" | "incr" | "append" | "delete" | "guard"),
             path (JSON array of segments, [] for the root),
             argument (set/merge: JSON value; incr: plain decimal; append: JSON array of values;
                       guard: the string the value at the path must sort before),
             option (append: most elements to keep, "" for no cap).
  Returns: {"applied", result...} with one text result per operation (incr: the new number;
           append: the new length; delete: "1" or "0"; set, merge, guard: ""), {"duplicate"}
           when the marker already holds ARGV[1], or {"stale"} when a guard did not pass
           (nothing written, marker included). Guards are checked before any operation, wherever
           they stand in the list. On an error nothing is written and the reply is
           "DOCSTORE <Reason> <message>".
  The document is parsed lazily (tree.lua), changed in memory and written once, so a failing
  operation leaves it untouched; SET ... KEEPTTL keeps an expiry set by the document's owner.
]]
--- @include "includes/prelude"
--- @include "includes/json"
--- @include "includes/tree"
--- @include "includes/decimal"
--- @include "includes/document"
--- @include "includes/applyOps"
return apply_ops(KEYS, ARGV)
