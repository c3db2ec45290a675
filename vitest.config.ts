import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summaryReporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["packages/*/src/**/*.test.ts", "test/*.test.ts"], exclude: ["**/*.int.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"] } },
      { extends: true, test: { name: "integration", include: ["packages/*/src/**/*.int.test.ts", "scripts/**/*.int.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 } },
      { extends: true, test: { name: "e2e", include: ["test/**/*.e2e.test.ts"], testTimeout: 120_000, hookTimeout: 180_000 } }
    ]
  }
})
