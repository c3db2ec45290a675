// A consumer process for the crash test: it handles `Counted` messages by recording them in
// a Redis list, and hangs on the message with seq = HANG_AT, so the test can SIGKILL it in the
// middle of a batch.
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Actor from "../Actor.ts"
import { counted, runWith } from "./TestStreams.ts"

const url = process.env.REDIS_URL!
const streamName = process.env.STREAM!
const hangAt = Number(process.env.HANG_AT)

await runWith(
  url,
  Effect.gen(function* () {
    const redis = yield* Redis
    yield* Actor.run({
      group: "workers",
      stream: counted(streamName),
      consumer: "doomed",
      batchSize: 50,
      handle: (m) =>
        m.payload.seq === hangAt
          ? redis.send("RPUSH", "hung", String(m.payload.seq)).pipe(Effect.andThen(Effect.never))
          : redis.send("RPUSH", "handled", String(m.payload.seq))
    })
    yield* Effect.never
  })
)
