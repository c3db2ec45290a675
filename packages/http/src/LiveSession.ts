// Long-lived responses (Server-Sent Events) bound to the session and token that opened them.
// A stream must not outlive what authorised it: the capability that owns sessions (identity)
// provides `LiveSessions`, and a streaming route registers each stream with it and ends the
// stream, with a last event saying why, once `ended` settles (logout, revocation, log out
// everywhere, session or token expiry, the account ended by the bank, a newer stream of the
// same session beyond the cap). The HTTP kit knows no capability: this is only the contract.
import type { Principal } from "@bank/contracts"
import { Context, type Effect } from "effect"
import type { RedisError } from "effect/persistence/Redis"

export interface LiveStream {
  /** Settles with why the stream must end (a kebab-case reason such as "logout"). */
  readonly ended: Promise<string>
  /** The stream is over (the client left or the route ended it): stop watching. */
  readonly release: () => void
}

export class LiveSessions extends Context.Service<
  LiveSessions,
  {
    /** Starts watching the caller's session and the token in `authorization` for one stream. */
    readonly watch: (principal: Principal, authorization: string | undefined) => Effect.Effect<LiveStream, RedisError>
  }
>()("@bank/edge/LiveSessions") {}
