import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel in two forks; each file owns its own schema.
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
