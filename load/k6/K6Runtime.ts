// What every k6 script shares: the scenario from load/scenarios.json (with BASE_URL, SCALE,
// DURATION_SCALE and USERS from `-e` or the environment) turned into k6 options, and the
// shared flow (load/flows) run over k6/http. Each script reads the JSON itself with
// open("../scenarios.json"), because open() is only allowed in the init context.
import { check, sleep } from "k6"
import exec from "k6/execution"
import http from "k6/http"
import type { Options, Scenario } from "k6/options"
import type { Client, Reply, Request, VuState } from "../flows/Api.ts"
import { flows } from "../flows/Flows.ts"
import { numberFrom, parseParams, resolve } from "../flows/Params.ts"

const k6Client = (baseUrl: string): Client => ({
  request: async (request: Request): Promise<Reply> => {
    const headers: Record<string, string> = { Accept: "application/json", ...request.headers }
    if (request.token !== undefined) headers.Authorization = `Bearer ${request.token}`
    let body: string | null = null
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json"
      body = JSON.stringify(request.body)
    }
    const response = await http.asyncRequest(request.method, `${baseUrl}${request.path}`, body, {
      headers,
      tags: { name: request.name },
      responseCallback: http.expectedStatuses(...(request.expect ?? [200]))
    })
    return {
      status: response.status,
      json: () => {
        try {
          return response.json()
        } catch {
          return undefined
        }
      }
    }
  },
  check: (name: string, ok: boolean) => {
    check(ok, { [name]: (value) => value === true })
  },
  sleep: async (seconds: number) => sleep(seconds)
})

/** The options and default function of the k6 script for scenario `name`. */
export const scenario = (name: string, scenariosJson: string) => {
  const resolved = resolve(parseParams(scenariosJson), name, {
    baseUrl: __ENV.BASE_URL,
    scale: numberFrom(__ENV.SCALE, "SCALE"),
    durationScale: numberFrom(__ENV.DURATION_SCALE, "DURATION_SCALE"),
    users: numberFrom(__ENV.USERS, "USERS")
  })
  const { type, ...fields } = resolved.scenario.executor
  const thresholds: Record<string, Array<string>> = {}
  for (const [metric, list] of Object.entries(resolved.scenario.thresholds)) thresholds[metric] = [...list]
  const options: Options = {
    scenarios: { [name]: { executor: type, ...fields } as Scenario },
    thresholds,
    summaryTrendStats: ["avg", "min", "med", "p(95)", "p(99)", "max"]
  }
  const flow = flows[resolved.scenario.flow]
  const client = k6Client(resolved.baseUrl)
  // Module state is per VU in k6: each VU has its own copy.
  const state: VuState = {}
  const iteration = () =>
    flow({
      client,
      vu: exec.vu.idInTest,
      iteration: exec.scenario.iterationInTest,
      state,
      users: resolved.users,
      options: resolved.scenario.options
    })
  return { options, iteration }
}
