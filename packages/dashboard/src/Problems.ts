// The dashboard's error tags as HTTP problems.
// `detail` is written for the client, never the error's own message. The edge merges this table
// with the others; `run` does not accept an Effect failing with a tag missing here.
import { entry } from "@bank/http"
import type * as Errors from "./Errors.ts"

export const problems = {
  InvalidLastEventId: entry<Errors.InvalidLastEventId>({
    status: 400,
    title: "Invalid Last-Event-ID",
    detail: "Last-Event-ID must be an event id this stream sent (two numbers joined by a dash); reconnect without it."
  })
}

export type ProblemTag = keyof typeof problems
