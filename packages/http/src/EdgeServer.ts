// Serves the app on Node's HTTP server for as long as the layer's scope lives. Closing the
// scope (SIGTERM/SIGINT in main.ts) shuts down gracefully: stop accepting connections, let
// in-flight requests finish (each still has Redis and PostgreSQL: this layer closes before the
// layers it uses), and cut whatever is still open after a grace period.
import type { Database, RedisTopology } from "@bank/platform"
import { getRequestListener } from "@hono/node-server"
import type { Redis } from "effect/persistence/Redis"
import { Config, Context, Duration, Effect, Layer, Schema } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { defaultBodyLimitBytes, makeApp, type AppOptions, type Routes } from "./App.ts"
import { EdgeResponse, type NodeHeaders } from "./NodeResponse.ts"
import type { ProblemTable } from "./ErrorTable.ts"

export class EdgeServer extends Context.Service<
  EdgeServer,
  {
    /** The port it listens on: the one asked for, or the one the OS picked for port 0. */
    readonly port: number
  }
>()("@bank/edge/EdgeServer") {}

export class ListenError extends Schema.TaggedError<ListenError>()("ListenError", {
  port: Schema.Number,
  cause: Schema.Defect()
}) {}

export interface ServeOptions<R, P extends ProblemTable = Record<never, never>>
  extends Omit<AppOptions<R, P>, "context"> {
  /** 0 lets the OS pick a free port (tests). */
  readonly port: number
  /** Interface to bind; all of them when absent. */
  readonly hostname?: string
  /** How long in-flight requests may take to finish at shutdown (default 8 seconds). */
  readonly shutdownGrace?: Duration.Input
}

const listen = (server: Server<any, any>, options: { readonly port: number; readonly hostname?: string }) =>
  Effect.callback<void, ListenError>((resume) => {
    const onError = (cause: unknown) => resume(Effect.fail(new ListenError({ port: options.port, cause })))
    server.once("error", onError)
    server.listen(options.port, options.hostname, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

// Node closes the connections that are idle when `close` is called, but a keep-alive connection
// whose request is in flight would stay open after its answer until the client lets go. So from
// then on every answer, including those in flight, says `Connection: close`: decided as its
// status line is written (every answer goes through `writeHead`), so a request costs no
// bookkeeping of its own (a set of those in flight and a close listener each cost ~0.7 µs a
// request, scripts/bench/edgeStep.ts). (Exported for that script, which measures the edge's
// /healthz on this same server.)
export const nodeServer = (listener: ReturnType<typeof getRequestListener>) => {
  let closing = false
  // EdgeResponse: the request step's headers and metric are applied as the answer is written.
  class Answer extends EdgeResponse {
    override writeHead(statusCode: number, statusMessage?: string | NodeHeaders, headers?: NodeHeaders): this {
      if (closing && !this.headersSent) this.setHeader("Connection", "close")
      return super.writeHead(statusCode, statusMessage, headers)
    }
  }
  const server = createServer({ ServerResponse: Answer }, listener)
  const close = (grace: Duration.Input) =>
    Effect.callback<void>((resume) => {
      closing = true
      // A stream (server-sent events) never finishes by itself, hence the grace period.
      const force = setTimeout(() => server.closeAllConnections(), Duration.toMillis(grace))
      server.close(() => {
        clearTimeout(force)
        resume(Effect.void)
      })
    })
  return { server, close }
}

export const layer = <R, P extends ProblemTable = Record<never, never>>(
  options: ServeOptions<R, P>
): Layer.Layer<EdgeServer, ListenError, R | Redis | RedisTopology.RedisTopology | Database.Database> =>
  Layer.effect(
    EdgeServer,
    Effect.gen(function* () {
      const context = yield* Effect.context<R | Redis | RedisTopology.RedisTopology | Database.Database>()
      const app = makeApp({ ...options, context })
      const { server, close } = nodeServer(getRequestListener(app.fetch))
      yield* Effect.acquireRelease(listen(server, options), () =>
        Effect.logInfo("Edge stopping: finishing in-flight requests").pipe(
          Effect.andThen(close(options.shutdownGrace ?? "8 seconds")),
          Effect.andThen(Effect.logInfo("Edge stopped"))
        )
      )
      const port = (server.address() as AddressInfo).port
      yield* Effect.logInfo(`Edge listening on port ${port}`)
      return EdgeServer.of({ port })
    })
  )

/** Reads `PORT` (default 3000), `BODY_LIMIT_BYTES` (default 65536), `HTTP_DEBUG_HEADERS` and `CORS_ORIGINS` (comma-separated; none by default). */
export const layerConfig = <R, P extends ProblemTable = Record<never, never>>(options: {
  readonly problems?: P
  readonly routes?: ReadonlyArray<Routes<R, NoInfer<keyof P & string>>>
}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* Config.all({
        port: Config.Port("PORT").pipe(Config.withDefault(3000)),
        debugHeaders: Config.Boolean("HTTP_DEBUG_HEADERS").pipe(Config.withDefault(false)),
        bodyLimitBytes: Config.schema(Schema.Int.check(Schema.isGreaterThan(0)), "BODY_LIMIT_BYTES").pipe(
          Config.withDefault(defaultBodyLimitBytes)
        ),
        corsOrigins: Config.String("CORS_ORIGINS").pipe(
          Config.withDefault(""),
          Config.map((text) =>
            text
              .split(",")
              .map((o) => o.trim())
              .filter((o) => o !== "")
          )
        )
      })
      return layer({ ...options, ...config })
    })
  )
