import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";

function problems(env: Record<string, string>, flags = {}): string[] {
  try {
    loadConfig(env, flags);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies the defaults of CONTRACT §2", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      databaseSchema: "public",
      jobsEnabled: true,
      heartbeatRequired: false,
      heartbeatTtlSeconds: 180,
      intervalSeconds: 60,
      httpHost: "0.0.0.0",
      httpPort: 9464,
      runnerEnv: "development",
      shutdownGraceSeconds: 30,
      logLevel: "info",
      logFormat: "json",
      alertAfterFailures: 3,
      runRetentionDays: 30,
      storageJanitorMaxAgeHours: 24,
      storageJanitorDryRun: false,
      jobsFiles: [],
    });
    expect(config.runnerId.length).toBeGreaterThan(0);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u:p@db:5432/app",
      DATABASE_SCHEMA: "jobs",
      JOBS_ENABLED: "false",
      JOB_HEARTBEAT_REQUIRED: "true",
      JOB_HEARTBEAT_TTL_SECONDS: "90",
      JOB_RUNNER_ID: "pod-1",
      JOB_LOOP_INTERVAL_SECONDS: "15",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      RUNNER_ENV: "production",
      LOG_FORMAT: "pretty",
      ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
      JOBS_FILE: "a.yaml, b.mjs",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://u:p@db:5432/app",
      databaseSchema: "jobs",
      jobsEnabled: false,
      heartbeatRequired: true,
      heartbeatTtlSeconds: 90,
      runnerId: "pod-1",
      intervalSeconds: 15,
      httpPort: 0,
      runnerEnv: "production",
      logFormat: "pretty",
      jobsFiles: ["a.yaml", "b.mjs"],
    });
  });

  it("lets --interval win over the environment and appends --jobs", () => {
    const config = loadConfig(
      { JOB_LOOP_INTERVAL_SECONDS: "15", JOBS_FILE: "a.yaml" },
      { interval: "5", jobs: ["c.mjs"] },
    );
    expect(config.intervalSeconds).toBe(5);
    expect(config.jobsFiles).toEqual(["a.yaml", "c.mjs"]);
  });

  it("reports one line per bad variable, naming it", () => {
    const lines = problems({
      JOB_HEARTBEAT_TTL_SECONDS: "abc",
      RUNNER_ENV: "prod",
      HTTP_PORT: "70000",
      JOBS_ENABLED: "maybe",
    });
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith("JOB_HEARTBEAT_TTL_SECONDS:"))).toContain('"abc"');
    expect(lines.find((l) => l.startsWith("RUNNER_ENV:"))).toContain('"prod"');
    expect(lines.find((l) => l.startsWith("HTTP_PORT:"))).toMatch(/0 to 65535/);
    expect(lines.find((l) => l.startsWith("JOBS_ENABLED:"))).toMatch(/true or false/);
  });

  it("rejects a malformed URL without echoing it", () => {
    const lines = problems({ DATABASE_URL: "mysql://user:hunter2@db/x", ALERT_WEBHOOK_URL: "not a url" });
    expect(lines).toEqual([
      "DATABASE_URL: expected a postgres:// URL",
      "ALERT_WEBHOOK_URL: expected an http:// or https:// URL",
    ]);
    expect(lines.join("\n")).not.toContain("hunter2");
  });

  it("bounds --interval to 1..3600 and names the flag", () => {
    expect(problems({}, { interval: "0" })).toEqual([
      '--interval: expected whole seconds from 1 to 3600 (got "0")',
    ]);
    expect(problems({}, { interval: "3601" })[0]).toMatch(/^--interval:/);
    expect(problems({}, { interval: "1.5" })[0]).toMatch(/^--interval:/);
    expect(loadConfig({}, { interval: "3600" }).intervalSeconds).toBe(3600);
  });

  it("rejects a schema name that is not a plain identifier", () => {
    expect(problems({ DATABASE_SCHEMA: 'x"; drop table y; --' })[0]).toMatch(
      /^DATABASE_SCHEMA: expected a lower-case SQL identifier/,
    );
  });
});
