// Prefetch's error tags as HTTP problems: another customer's account reads as not found.
// `detail` is written for the client, never the error's own message. The edge merges this table
// with the others; `run` does not accept an Effect failing with a tag missing here.
import { entry } from "@bank/http"
import type * as Errors from "./Errors.ts"

export const problems = {
  AccountNotFound: entry({ status: 404, title: "Account not found", detail: "There is no such account among yours." }),
  InvalidPageQuery: entry<Errors.InvalidPageQuery>({
    status: 400,
    title: "Invalid query parameter",
    detail: (e) => `${e.parameter}: ${e.detail}`,
    extensions: (e) => ({ parameter: e.parameter })
  })
}

export type ProblemTag = keyof typeof problems
