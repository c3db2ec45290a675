// Identity's error tags as HTTP problems. Wrong username and wrong password read the same.
// `detail` is written for the client, never the error's own message. The edge merges this table
// with the others; `run` does not accept an Effect failing with a tag missing here.
import { entry } from "@bank/http"
import type * as Errors from "./Errors.ts"

export const problems = {
  Unauthenticated: entry<Errors.Unauthenticated>({
    status: 401,
    title: "Unauthenticated",
    detail: (e) =>
      e.reason === "MissingToken" ? "Send a bearer access token." : "The access token is invalid, expired or revoked."
  }),
  InvalidCredentials: entry({
    status: 401,
    title: "Invalid credentials",
    detail: "The username or password is wrong."
  }),
  StepUpFailed: entry({ status: 403, title: "Step-up failed", detail: "The password is wrong." }),
  LoginThrottled: entry<Errors.LoginThrottled>({
    status: 429,
    title: "Too many login attempts",
    detail: (e) => `Try again in ${e.retryAfterSeconds} seconds.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  LoginNotReady: entry<Errors.LoginNotReady>({
    status: 503,
    title: "Login not available yet",
    detail: (e) => `The service is starting. Try again in ${e.retryAfterSeconds} seconds.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  AccountUnavailable: entry({
    status: 403,
    title: "Account unavailable",
    detail: "This account cannot log in. Contact the bank."
  }),
  SessionLimitReached: entry({
    status: 409,
    title: "Too many sessions",
    detail: "You are logged in on too many devices. Log out on one of them first."
  }),
  InvalidRefreshToken: entry({ status: 401, title: "Invalid refresh token", detail: "Log in again." }),
  SessionNotFound: entry({ status: 404, title: "Session not found", detail: "There is no such session." })
}

export type ProblemTag = keyof typeof problems
