// How long the consumer engine's handlers take, per stream and consumer group, as the
// Prometheus histogram `handler_duration_seconds{stream,group}` on every process's /metrics
// (Management.ts renders Effect's metrics). The shared mode (Actor.ts) times each delivery of a
// message to its handler (a retry is another delivery); the partition-owned mode (OwnedPartitions.ts) times each batch
// handed to a partition's handler (a projector applies a batch at once). Failures are timed too.
import { Effect, Metric } from "effect"

export const handlerDuration = Metric.histogram("handler_duration_seconds", {
  description:
    "Consumer handler durations by stream and consumer group: one message (shared mode) or one batch (partition-owned mode).",
  boundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
})

/** `effect`, its duration recorded under `stream` and `group` whatever its outcome. */
export const timed =
  (ref: { readonly stream: string; readonly group: string }) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const metric = Metric.withAttributes(handlerDuration, { stream: ref.stream, group: ref.group })
    return Effect.suspend(() => {
      const started = performance.now()
      return Effect.onExit(effect, () => Metric.update(metric, (performance.now() - started) / 1000))
    })
  }
