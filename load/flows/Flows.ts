// One iteration of each scenario, shared by the k6 scripts and the Node runner. The scenario's
// `options` (load/scenarios.json) tune them; the executor decides how often they run.
import * as Api from "./Api.ts"
import type { FlowName } from "./Params.ts"

export type Flow = (ctx: Api.Context) => Promise<void>

const num = (ctx: Api.Context, key: string, fallback: number): number => {
  const value = ctx.options[key]
  return typeof value === "number" && Number.isFinite(value) ? value : fallback
}

const think = (ctx: Api.Context): Promise<void> => {
  const range = ctx.options.thinkSeconds
  const [low, high] = Array.isArray(range) && range.length === 2 ? (range as [number, number]) : [0.5, 1.5]
  return ctx.client.sleep(low + Math.random() * (high - low))
}

/** Each iteration is a different customer opening the app: log in, then the first dashboard. */
export const loginStorm: Flow = async (ctx) => {
  const session = await Api.login(ctx, Api.userFor(ctx.iteration, ctx.users.count))
  if (session) await Api.dashboard(ctx, session)
}

/** Each VU is one logged-in customer reading the dashboard; now and then a forged token. */
export const browse: Flow = async (ctx) => {
  const session = await Api.ensureSession(ctx, Api.userFor(ctx.vu - 1, ctx.users.count))
  if (!session) return
  await Api.dashboard(ctx, session)
  const sessionEvery = num(ctx, "sessionEvery", 0)
  if (sessionEvery > 0 && ctx.iteration % sessionEvery === 0) await Api.sessionDocument(ctx, session)
  const forgedEvery = num(ctx, "forgedTokenEvery", 0)
  if (forgedEvery > 0 && ctx.iteration % forgedEvery === 0) await Api.forgedToken(ctx)
}

type Action =
  | "dashboard"
  | "transactions"
  | "profile"
  | "session"
  | "preferences"
  | "profileUpdate"
  | "transfer"
  | "refresh"
  | "logout"
const actions: ReadonlyArray<Action> = [
  "dashboard",
  "transactions",
  "profile",
  "session",
  "preferences",
  "profileUpdate",
  "transfer",
  "refresh",
  "logout"
]

const chooseAction = (ctx: Api.Context): Action => {
  const mix = (typeof ctx.options.mix === "object" && ctx.options.mix !== null ? ctx.options.mix : {}) as Record<
    string,
    unknown
  >
  const weights = actions.map((a) => (typeof mix[a] === "number" ? (mix[a] as number) : 0))
  const total = weights.reduce((a, b) => a + b, 0)
  let draw = Math.random() * total
  for (const [i, weight] of weights.entries()) {
    draw -= weight
    if (draw < 0) return actions[i]!
  }
  return "dashboard"
}

/** A customer's session: log in when needed (dashboard first), then one weighted action and think time. */
export const mixedDay: Flow = async (ctx) => {
  const fresh = ctx.state.session === undefined
  const session = await Api.ensureSession(ctx, Api.userFor(ctx.vu - 1, ctx.users.count))
  if (!session) return think(ctx)
  if (fresh || session.accounts === undefined) {
    await Api.dashboard(ctx, session)
    return think(ctx)
  }
  switch (chooseAction(ctx)) {
    case "dashboard":
      await Api.dashboard(ctx, session)
      break
    case "transactions": {
      const account = Api.pick(session.accounts ?? [])
      if (account) await Api.transactions(ctx, session, account.id)
      else await Api.dashboard(ctx, session)
      break
    }
    case "profile":
      await Api.profile(ctx, session, Math.random() < 0.5 ? "email,address" : undefined)
      break
    case "session":
      await Api.sessionDocument(ctx, session)
      break
    case "preferences":
      await Api.preferences(ctx, session)
      break
    case "profileUpdate":
      await Api.profileUpdate(ctx, session)
      break
    case "transfer":
      if (!(await Api.transfer(ctx, session))) await Api.dashboard(ctx, session)
      break
    case "refresh":
      await Api.refresh(ctx, session)
      break
    case "logout":
      await Api.logout(ctx, session)
      break
  }
  return think(ctx)
}

/** Phones opening the app after a push: mostly the dashboard of an open session, some fresh logins. */
export const spike: Flow = async (ctx) => {
  const user = Api.userFor(ctx.vu - 1, ctx.users.count)
  if (ctx.state.session && Math.random() < num(ctx, "loginShare", 0)) ctx.state.session = undefined
  const session = await Api.ensureSession(ctx, user)
  if (session) await Api.dashboard(ctx, session)
}

export const flows: Readonly<Record<FlowName, Flow>> = { loginStorm, browse, mixedDay, spike }
