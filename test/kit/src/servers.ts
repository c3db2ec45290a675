// Per-suite private servers: each integration suite starts its own Redis / PostgreSQL on free
// ports (so fault tests may kill and restart them) and removes them after the suite, also
// when a test failed. `useRedis` starts a private Redis Cluster instead when the suite runs on
// the cluster topology (TEST_REDIS_TOPOLOGY=cluster, see testRedis.ts).
import { afterAll, beforeAll } from "vitest"
import { startPostgres, type LocalPostgres, type LocalRedis, type RedisOptions } from "./localServices.ts"
import { startTestRedis } from "./testRedis.ts"

export const useRedis = (options?: RedisOptions): { readonly server: LocalRedis } => {
  let server: LocalRedis | undefined
  beforeAll(async () => {
    server = await startTestRedis(options)
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })
  return {
    get server() {
      if (!server) throw new Error("useRedis: the server starts in beforeAll; use it inside tests")
      return server
    }
  }
}

export const usePostgres = (): { readonly server: LocalPostgres } => {
  let server: LocalPostgres | undefined
  beforeAll(async () => {
    server = await startPostgres()
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })
  return {
    get server() {
      if (!server) throw new Error("usePostgres: the server starts in beforeAll; use it inside tests")
      return server
    }
  }
}
