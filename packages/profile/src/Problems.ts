// Profile's error tags as HTTP problems.
// `detail` is written for the client, never the error's own message. The edge merges this table
// with the others; `run` does not accept an Effect failing with a tag missing here.
import { entry } from "@bank/http"
import type * as Errors from "./Errors.ts"

export const problems = {
  ProfileNotFound: entry({
    status: 404,
    title: "Profile not found",
    detail: "Your profile is being prepared. Try again shortly."
  }),
  UnknownProfileField: entry<Errors.UnknownProfileField>({
    status: 400,
    title: "Unknown profile field",
    detail: (e) => `A profile has no field ${e.fields.join(", ")}.`,
    extensions: (e) => ({ fields: e.fields, allowed: e.allowed })
  })
}

export type ProblemTag = keyof typeof problems
