// The one error of the CDC connector. The connector restarts its session with backoff on any
// of them: `Database` and `Redis` are usually outages; `Protocol` (bytes we cannot decode, a
// change for an unknown relation) is a bug or an unsupported server, retried all the same,
// since a new session resumes from the last confirmed position and loses nothing.
import { Schema } from "effect"

export class CdcError extends Schema.TaggedError<CdcError>()("CdcError", {
  reason: Schema.Literals(["Database", "Redis", "Protocol"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

const text = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

export const database = (what: string) => (cause: unknown) =>
  new CdcError({ reason: "Database", message: `${what}: ${text(cause)}`, cause })

export const redis = (what: string) => (cause: unknown) =>
  new CdcError({ reason: "Redis", message: `${what}: ${text(cause)}`, cause })

export const protocol = (cause: unknown) => new CdcError({ reason: "Protocol", message: text(cause), cause })
