// @bank/test-kit: what tests and benchmarks use to run the system for real. Private Redis and
// PostgreSQL servers on free ports (localServices.ts, and per-suite hooks in servers.ts), a private
// Redis Cluster (localCluster.ts) and the topology the tests run on (testRedis.ts), and a
// process of the system run as a child that can be killed or stopped (childProcess.ts). Only
// tests, `testing/` helpers and scripts import it.
export * from "./servers.ts"
export * from "./childProcess.ts"
export * from "./localServices.ts"
export * from "./localCluster.ts"
export * from "./testRedis.ts"
export * from "./servers.ts"
