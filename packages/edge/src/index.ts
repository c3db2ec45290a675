// @bank/edge: the composition root. It imports every capability and only composes them: their
// routes behind the token check, their problem tables merged (Api.ts), the staff's dead-letter
// routes (DeadLetterRoutes.ts), served by the HTTP kit's
// server (@bank/http) in the edge process (main.ts). Nothing imports the edge.
export { api, problems, readModels, servicesLayer, type Services } from "./Api.ts"
export { deadLetterRoutes } from "./DeadLetterRoutes.ts"
