import { hostname } from "node:os";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type Config, loadConfig, VARIABLES, type Variable } from "../../src/config.js";
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
  it("applies the defaults of docs/contract.md (Environment)", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      databaseSchema: "public",
      databaseStartupTimeoutSeconds: 30,
      jobsEnabled: true,
      heartbeatRequired: false,
      heartbeatTtlSeconds: 180,
      intervalSeconds: 60,
      httpHost: "127.0.0.1",
      adminAuth: "auto",
      httpPort: 9464,
      runnerEnv: "development",
      shutdownGraceSeconds: 30,
      logLevel: "info",
      logFormat: "auto",
      alertAfterFailures: 3,
      runRetentionDays: 30,
      storageJanitorMaxAgeHours: 24,
      storageJanitorDryRun: false,
      jobsFiles: [],
    });
    expect(config.runnerId.length).toBeGreaterThan(0);
  });

  it("reads every variable", () => {
    const env = {
      DATABASE_URL: "postgres://u:p@db:5432/app",
      DATABASE_SCHEMA: "jobs",
      DATABASE_STARTUP_TIMEOUT_SECONDS: "5",
      JOBS_ENABLED: "false",
      JOB_HEARTBEAT_REQUIRED: "true",
      JOB_HEARTBEAT_TTL_SECONDS: "90",
      JOB_RUNNER_ID: "pod-1",
      JOB_LOOP_INTERVAL_SECONDS: "15",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      HTTP_MAX_CONNECTIONS: "50",
      ADMIN_BASIC_USERNAME: "admin",
      ADMIN_BASIC_PASSWORD: "pw",
      INTERNAL_SECRET: "s3cret",
      ADMIN_AUTH: "none",
      RUNNER_ENV: "production",
      SCHEDULER_API_ALLOWED_HOSTS: "API.example.com, .corp.example",
      JOB_GROUP_LIMITS: "reports=2, etl=1",
      MAX_CONCURRENT_RUNS: "250",
      METRICS_PER_JOB: "off",
      SHUTDOWN_GRACE_SECONDS: "7",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "pretty",
      RUN_OUTPUT_MAX_LINES: "500",
      RUN_OUTPUT_MAX_BYTES: "65536",
      ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
      ALERT_AFTER_FAILURES: "2",
      HEARTBEAT_PING_URL: "https://hc.example.com/ping",
      RUN_RETENTION_DAYS: "0",
      STORAGE_JANITOR_DIR: "/scratch",
      STORAGE_JANITOR_MAX_AGE_HOURS: "12",
      STORAGE_JANITOR_DRY_RUN: "yes",
      JOBS_FILE: "a.yaml, b.mjs",
    };
    // A new variable belongs here too: this test is what shows that it is read.
    expect(Object.keys(env).toSorted()).toEqual(Object.keys(VARIABLES).toSorted());
    expect(loadConfig(env)).toEqual({
      databaseUrl: "postgres://u:p@db:5432/app",
      databaseSchema: "jobs",
      databaseStartupTimeoutSeconds: 5,
      jobsEnabled: false,
      heartbeatRequired: true,
      heartbeatTtlSeconds: 90,
      runnerId: "pod-1",
      intervalSeconds: 15,
      httpHost: "127.0.0.1",
      httpPort: 0,
      httpMaxConnections: 50,
      adminUsername: "admin",
      adminPassword: "pw",
      internalSecret: "s3cret",
      adminAuth: "none",
      runnerEnv: "production",
      schedulerApiAllowedHosts: ["api.example.com", ".corp.example"],
      groupLimits: { reports: 2, etl: 1 },
      maxConcurrentRuns: 250,
      metricsPerJob: "off",
      shutdownGraceSeconds: 7,
      logLevel: "debug",
      logFormat: "pretty",
      runOutputMaxLines: 500,
      runOutputMaxBytes: 65536,
      alertWebhookUrl: "https://hooks.example.com/x",
      alertAfterFailures: 2,
      heartbeatPingUrl: "https://hc.example.com/ping",
      runRetentionDays: 0,
      storageJanitorDir: "/scratch",
      storageJanitorMaxAgeHours: 12,
      storageJanitorDryRun: true,
      jobsFiles: ["a.yaml", "b.mjs"],
    });
  });

  it("treats an empty variable as unset, falling back to the default or the host name", () => {
    const config = loadConfig({ HTTP_PORT: "", JOB_RUNNER_ID: "", DATABASE_URL: "", JOBS_FILE: "" });
    expect(config.httpPort).toBe(9464);
    expect(config.runnerId).toBe(hostname());
    expect(config.databaseUrl).toBeUndefined();
    expect(config.jobsFiles).toEqual([]);
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

describe("the table of variables", () => {
  const entries = Object.entries(VARIABLES) as [string, Variable][];

  it("names a malformed group limit and takes name=N pairs", () => {
    expect(() => loadConfig({ JOB_GROUP_LIMITS: "reports=2,etl" })).toThrow(
      'JOB_GROUP_LIMITS: expected name=N pairs, N from 1; "etl" is not one (got "reports=2,etl")',
    );
    expect(() => loadConfig({ JOB_GROUP_LIMITS: "reports=0" })).toThrow("JOB_GROUP_LIMITS");
    expect(loadConfig({ JOB_GROUP_LIMITS: "" }).groupLimits).toEqual({});
  });

  it("maps each variable to its own Config field", () => {
    const keys = entries.map(([, v]) => v.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(loadConfig({})).toSorted()).toEqual(keys.toSorted());
    for (const [name, v] of entries) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(v.key).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    }
  });

  it("documents each variable in one line and names the values it accepts", () => {
    for (const [name, v] of entries) {
      expect(v.description, name).toMatch(/^\S[^\n]*\.$/);
      expect(v.schema.description, name).toMatch(/\S/);
    }
  });

  it("gives each default a value its own parser accepts", () => {
    for (const [name, v] of entries) {
      if (v.default !== undefined) expect(v.schema.safeParse(v.default).success, name).toBe(true);
      expect(v.default !== undefined && v.fallback !== undefined, name).toBe(false);
    }
  });

  it("echoes a bad value in its problem unless the variable is a secret", () => {
    const invalid = ["not valid here", "   "];
    let secrets = 0;
    for (const [name, v] of entries) {
      if (name === "JOBS_FILE") continue; // any text is a list of paths
      const bad = invalid.find((value) => !v.schema.safeParse(value).success)!;
      const lines = problems({ [name]: bad });
      expect(lines, name).toHaveLength(1);
      expect(lines[0]!.startsWith(`${name}: `), name).toBe(true);
      expect(lines[0]!.endsWith(` (got ${JSON.stringify(bad)})`), name).toBe(!v.secret);
      if (v.secret) secrets++;
    }
    expect(secrets).toBe(5);
  });

  it("infers Config's types from the table (checked by npm run typecheck)", () => {
    expectTypeOf<Config["runnerId"]>().toEqualTypeOf<string>();
    expectTypeOf<Config["databaseUrl"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Config["databaseStartupTimeoutSeconds"]>().toEqualTypeOf<number>();
    expectTypeOf<Config["jobsEnabled"]>().toEqualTypeOf<boolean>();
    expectTypeOf<Config["jobsFiles"]>().toEqualTypeOf<string[]>();
    expectTypeOf<Config["runnerEnv"]>().toEqualTypeOf<"development" | "test" | "staging" | "production">();
  });
});
