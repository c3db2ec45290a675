// The session projector through its Projection value: declared not rebuildable with its reason
// and guard, and its pure change → document operations function.
import type { Identity } from "@bank/contracts"
import { Projection } from "@bank/platform"
import { describe, expect, it } from "vitest"
import { projection } from "./SessionProjector.ts"

const session = { customerId: "7", sessionId: "s1" }
const opsOf = (event: Identity.SessionEvent, recentActions = 3) => projection.opsOf!({ event, recentActions })

describe("SessionProjector.projection", () => {
  it("is declared not rebuildable, guarded by the once marker, and the tools' refusal says why", () => {
    expect(projection).toMatchObject({ name: "sessions", rebuild: "none", guard: "once", sources: ["session.events"] })
    expect(projection.group(1)).toBe("identity.sessions")
    expect(Projection.refusal(projection)).toMatch(
      /^sessions: not rebuildable: the session documents are the system of record/
    )
  })

  it("given an activity, then lastSeenAt moves and the action is appended, the newest N kept", () => {
    const at = "2026-12-07T14:00:00.000Z"
    expect(
      opsOf({ _tag: "SessionActivityRecorded", ...session, action: "GET /v1/dashboard", status: 200, at }, 5)
    ).toEqual([
      { op: "set", path: "$.lastSeenAt", value: at },
      { op: "append", path: "$.recentActions", values: [{ action: "GET /v1/dashboard", status: 200, at }], keepLast: 5 }
    ])
  })

  it("given preferences, then they are merged; given recommendations, then they replace the old", () => {
    expect(opsOf({ _tag: "SessionPreferencesChanged", ...session, preferences: { theme: "dark" } })).toEqual([
      { op: "merge", path: "$.preferences", patch: { theme: "dark" } }
    ])
    const recommendations = [{ id: "r1", title: "Save more" }]
    expect(opsOf({ _tag: "SessionRecommendationsUpdated", ...session, recommendations })).toEqual([
      { op: "set", path: "$.recommendations", value: recommendations }
    ])
  })

  it("given a start or an end, then the document is not touched", () => {
    expect(opsOf({ _tag: "SessionStarted", ...session })).toBeUndefined()
    expect(opsOf({ _tag: "SessionEnded", ...session, reason: "Logout" })).toBeUndefined()
  })
})
