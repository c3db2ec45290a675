import { defineConfig } from "vitest/config"

// The suites that run a second time on a private 6-node Redis Cluster (TEST_REDIS_TOPOLOGY=cluster,
// test/kit/src/testRedis.ts): what a customer does end to end, and the CDC connector killed and
// restarted (its tests share one Redis by their own slot and schemas, as a cluster has database 0
// only). test/failover.e2e.test.ts runs on a cluster in the e2e project already, with the CDC
// connector losing a stream's master.
const onBothTopologies = [
  "test/identity.e2e.test.ts",
  "test/transfers.e2e.test.ts",
  "test/dashboard.e2e.test.ts",
  "test/rebuild.e2e.test.ts",
  "packages/cdc/src/CdcRecovery.int.test.ts",
  "packages/prefetch/src/TransactionPageCache.int.test.ts"
]

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summaryReporter.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "test/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"]
        }
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["packages/*/src/**/*.int.test.ts", "scripts/**/*.int.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000
        }
      },
      {
        extends: true,
        // Every answer of every e2e suite is validated against the OpenAPI document.
        test: {
          name: "e2e",
          include: ["test/**/*.e2e.test.ts"],
          setupFiles: ["test/support/validateResponses.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000
        }
      },
      {
        extends: true,
        test: {
          name: "e2e-cluster",
          include: onBothTopologies,
          setupFiles: ["test/support/validateResponses.ts"],
          env: { TEST_REDIS_TOPOLOGY: "cluster" },
          testTimeout: 180_000,
          hookTimeout: 240_000
        }
      }
    ]
  }
})
