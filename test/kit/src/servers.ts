// Per-suite private servers: each integration suite starts its own Redis / PostgreSQL on free
// ports (so fault tests may kill and restart them) and removes them after the suite, also
// when a test failed.
import { afterAll, beforeAll } from "vitest"
import { startPostgres, startRedis, type LocalPostgres, type LocalRedis, type RedisOptions } from "./localServices.ts"

export const useRedis = (options?: RedisOptions): { readonly server: LocalRedis } => {
  let server: LocalRedis | undefined
  beforeAll(async () => {
    server = await startRedis(options)
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
