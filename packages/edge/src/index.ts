// @bank/edge: the composition root. It imports every capability and only composes them: their
// routes behind the token check, their problem tables merged, every route's description and the
// OpenAPI document built from them (Api.ts), the staff's dead-letter routes (DeadLetterRoutes.ts),
// the web app at `/` (@bank/web), served by the HTTP kit's server (@bank/http) in the edge
// process (main.ts). Nothing imports the edge.
export {
  api,
  document,
  makeApi,
  operations,
  problems,
  readModels,
  servicesLayer,
  type ApiOptions,
  type Services
} from "./Api.ts"
export { deadLetterOperations, deadLetterRoutes } from "./DeadLetterRoutes.ts"
