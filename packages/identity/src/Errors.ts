// The identity failures a client sees; Problems.ts maps each tag to its status.
// They carry nothing that tells an unknown username from a wrong password.
import { Schema } from "effect"

/** No bearer token, or one that is unknown, expired or revoked (401). */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  reason: Schema.Literals(["MissingToken", "InvalidToken"])
}) {}

/** Wrong username or password: the same error for both (401). */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()("InvalidCredentials", {}) {}

/** Too many attempts, or the username is locked out for a while (429 with Retry-After). */
export class LoginThrottled extends Schema.TaggedError<LoginThrottled>()("LoginThrottled", {
  retryAfterSeconds: Schema.Int
}) {}

/** Right password, but the customer master has the account locked or disabled (403). */
export class AccountUnavailable extends Schema.TaggedError<AccountUnavailable>()("AccountUnavailable", {}) {}

/** The customer has the most concurrent sessions allowed and the policy refuses more (409). */
export class SessionLimitReached extends Schema.TaggedError<SessionLimitReached>()("SessionLimitReached", {}) {}

/** The login cannot be decided yet: the credentials are still loading after a start (503 with Retry-After). */
export class LoginNotReady extends Schema.TaggedError<LoginNotReady>()("LoginNotReady", {
  retryAfterSeconds: Schema.Int
}) {}

/** A refresh token that is unknown, expired, already used, or whose session ended (401). */
export class InvalidRefreshToken extends Schema.TaggedError<InvalidRefreshToken>()("InvalidRefreshToken", {}) {}

/** No such session among the customer's own (404). */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", {
  sessionId: Schema.String
}) {}

/** A step-up's password was wrong (403; 429 LoginThrottled when throttled or locked). */
export class StepUpFailed extends Schema.TaggedError<StepUpFailed>()("StepUpFailed", {}) {}
