// The keys GET /v1/profile serves, the profile document and the writer's outcome beside it,
// through a client-side cache the server keeps honest (platform CachedDocuments.ts, CLIENT
// TRACKING): a hot profile costs no round trip and no Effect run, and the moment the projector
// writes the document or the writer the outcome, Redis tells this process to drop it.
//
// Never older than what this process knows was written: the edge writes neither key, and a
// read with a Consistency-Token (which reads Redis itself) `forget`s both afterwards, so a GET
// after it cannot be answered from what was cached before the change it waited for.
//
// Only with the lua backend; with RedisJSON, or with PROFILE_DOCUMENT_CACHE=false, every read
// goes to Redis as before.
import { CachedDocuments, ReadModel } from "@bank/platform"
import { Context, Effect, Layer, Option } from "effect"
import { lastUpdateKey, readModel } from "./ProfileProjector.ts"

export class ProfileDocuments extends Context.Service<ProfileDocuments, CachedDocuments.CachedDocuments>()(
  "@bank/profile/ProfileDocuments"
) {}

/** A stored JSON object's text with one more field at its end, its other bytes untouched. */
export const withField = (objectText: string, name: string, valueText: string): string => {
  const end = objectText.lastIndexOf("}")
  const empty = objectText.slice(objectText.indexOf("{") + 1, end).trim() === ""
  return `${objectText.slice(0, end)}${empty ? "" : ","}${JSON.stringify(name)}:${valueText}}`
}

/** The answer's body: the stored document with `lastUpdate` at its end when there is one. */
const bodyOf = (document: string, lastUpdate: string | null): string =>
  lastUpdate === null ? document : withField(document, "lastUpdate", lastUpdate)

/** The body of GET /v1/profile, None while the customer has no profile. */
export const text = (customerId: string) =>
  Effect.gen(function* () {
    const documents = yield* ProfileDocuments
    const key = yield* ReadModel.ReadModel.use((r) => r.documentKey(readModel, customerId))
    const [document, lastUpdate] = yield* Effect.all([documents.read(key), documents.read(lastUpdateKey(customerId))], {
      concurrency: "unbounded"
    })
    return document === null ? Option.none<string>() : Option.some(bodyOf(document, lastUpdate))
  })

/** The same synchronously when both keys are cached; undefined means "ask `text`" (a missing profile included). */
export const peek = (
  documents: CachedDocuments.CachedDocuments,
  readModels: ReadModel.ReadModel["Service"],
  customerId: string
): string | undefined => {
  const key = readModels.cachedDocumentKey(readModel, customerId)
  const document = key === undefined ? undefined : documents.peek(key)
  if (document === undefined || document === null) return undefined
  const lastUpdate = documents.peek(lastUpdateKey(customerId))
  return lastUpdate === undefined ? undefined : bodyOf(document, lastUpdate)
}

/** Drops the customer's cached document and outcome (this process saw them change). */
export const forget = (customerId: string) =>
  Effect.gen(function* () {
    const documents = yield* ProfileDocuments
    if (!documents.cached) return
    documents.forget(yield* ReadModel.ReadModel.use((r) => r.documentKey(readModel, customerId)))
    documents.forget(lastUpdateKey(customerId))
  })

/** PROFILE_DOCUMENT_CACHE (default true); a document and an outcome per customer, 20,000 keys. */
export const layerConfig = CachedDocuments.layerConfig(ProfileDocuments, "PROFILE_DOCUMENT_CACHE", 20_000)

/** For tests: on or off. */
export const layer = (options: { readonly cache: boolean }) =>
  Layer.effect(ProfileDocuments, CachedDocuments.make({ cache: options.cache, maxEntries: 20_000 }))
