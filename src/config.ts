import { hostname } from "node:os";
import { z } from "zod";
import { ConfigError } from "./errors.js";

/** Everything the daemon needs to know, parsed once from the environment and the flags. */
export interface Config {
  databaseUrl: string | undefined;
  databaseSchema: string;
  databaseStartupTimeoutSeconds: number;
  jobsEnabled: boolean;
  heartbeatRequired: boolean;
  heartbeatTtlSeconds: number;
  runnerId: string;
  intervalSeconds: number;
  httpHost: string;
  httpPort: number;
  adminUsername: string | undefined;
  adminPassword: string | undefined;
  internalSecret: string | undefined;
  runnerEnv: "development" | "test" | "staging" | "production";
  shutdownGraceSeconds: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  logFormat: "json" | "pretty";
  alertWebhookUrl: string | undefined;
  alertAfterFailures: number;
  heartbeatPingUrl: string | undefined;
  runRetentionDays: number;
  storageJanitorDir: string | undefined;
  storageJanitorMaxAgeHours: number;
  storageJanitorDryRun: boolean;
  jobsFiles: string[];
}

/** Flags that override or add to the environment. */
export interface ConfigFlags {
  interval?: string;
  jobs?: string[];
}

const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "ADMIN_BASIC_PASSWORD",
  "INTERNAL_SECRET",
  "ALERT_WEBHOOK_URL",
  "HEARTBEAT_PING_URL",
]);

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["true", "false", "1", "0", "yes", "no", "on", "off"].includes(v), "expected true or false")
  .transform((v) => ["true", "1", "yes", "on"].includes(v));

function int(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected an integer from ${min} to ${max}`);
}

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ["http:", "https:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, "expected an http:// or https:// URL");

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ["postgres:", "postgresql:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, "expected a postgres:// URL");

const nonEmpty = z.string().trim().min(1, "must not be empty");

/** Each variable of CONTRACT §2 with its parser and default (undefined: unset is allowed). */
const VARIABLES = {
  DATABASE_URL: { schema: postgresUrl, default: undefined },
  DATABASE_SCHEMA: {
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case SQL identifier"),
    default: "public",
  },
  DATABASE_STARTUP_TIMEOUT_SECONDS: { schema: int(0, 3600), default: "30" },
  JOBS_ENABLED: { schema: bool, default: "true" },
  JOB_HEARTBEAT_REQUIRED: { schema: bool, default: "false" },
  JOB_HEARTBEAT_TTL_SECONDS: { schema: int(1, 86400), default: "180" },
  JOB_RUNNER_ID: { schema: nonEmpty.max(200), default: undefined },
  JOB_LOOP_INTERVAL_SECONDS: { schema: int(1, 3600), default: "60" },
  HTTP_HOST: { schema: nonEmpty, default: "0.0.0.0" },
  HTTP_PORT: { schema: int(0, 65535), default: "9464" },
  ADMIN_BASIC_USERNAME: { schema: nonEmpty, default: undefined },
  ADMIN_BASIC_PASSWORD: { schema: nonEmpty, default: undefined },
  INTERNAL_SECRET: { schema: nonEmpty, default: undefined },
  RUNNER_ENV: { schema: z.enum(["development", "test", "staging", "production"]), default: "development" },
  SHUTDOWN_GRACE_SECONDS: { schema: int(0, 86400), default: "30" },
  LOG_LEVEL: {
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
  },
  LOG_FORMAT: { schema: z.enum(["json", "pretty"]), default: "json" },
  ALERT_WEBHOOK_URL: { schema: httpUrl, default: undefined },
  ALERT_AFTER_FAILURES: { schema: int(1, 1000), default: "3" },
  HEARTBEAT_PING_URL: { schema: httpUrl, default: undefined },
  RUN_RETENTION_DAYS: { schema: int(0, 36500), default: "30" },
  STORAGE_JANITOR_DIR: { schema: nonEmpty, default: undefined },
  STORAGE_JANITOR_MAX_AGE_HOURS: { schema: int(1, 87600), default: "24" },
  STORAGE_JANITOR_DRY_RUN: { schema: bool, default: "false" },
  JOBS_FILE: { schema: z.string(), default: "" },
} as const;

type VariableName = keyof typeof VARIABLES;
type Parsed = { [K in VariableName]: z.output<(typeof VARIABLES)[K]["schema"]> | undefined };

function describe(name: string, raw: string): string {
  return SECRET_VARIABLES.has(name) ? "" : ` (got ${JSON.stringify(raw)})`;
}

/**
 * Parse the environment and the flags into a Config.
 * Throws ConfigError with one line per bad variable or flag; secret values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): Config {
  const problems: string[] = [];
  const parsed = {} as Record<string, unknown>;
  for (const [name, spec] of Object.entries(VARIABLES)) {
    const raw = env[name];
    const value = raw === undefined || (raw === "" && spec.default !== "") ? spec.default : raw;
    if (value === undefined) continue;
    const result = (spec.schema as z.ZodType).safeParse(value);
    if (result.success) parsed[name] = result.data;
    else
      problems.push(`${name}: ${result.error.issues[0]?.message ?? "invalid value"}${describe(name, value)}`);
  }
  let intervalSeconds = parsed.JOB_LOOP_INTERVAL_SECONDS as number | undefined;
  if (flags.interval !== undefined) {
    const result = int(1, 3600).safeParse(flags.interval);
    if (result.success) intervalSeconds = result.data;
    else
      problems.push(
        `--interval: expected whole seconds from 1 to 3600 (got ${JSON.stringify(flags.interval)})`,
      );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const p = parsed as Parsed;
  const jobsFiles = [
    ...(p.JOBS_FILE ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ...(flags.jobs ?? []),
  ];
  return {
    databaseUrl: p.DATABASE_URL,
    databaseSchema: p.DATABASE_SCHEMA!,
    databaseStartupTimeoutSeconds: p.DATABASE_STARTUP_TIMEOUT_SECONDS!,
    jobsEnabled: p.JOBS_ENABLED!,
    heartbeatRequired: p.JOB_HEARTBEAT_REQUIRED!,
    heartbeatTtlSeconds: p.JOB_HEARTBEAT_TTL_SECONDS!,
    runnerId: p.JOB_RUNNER_ID ?? hostname(),
    intervalSeconds: intervalSeconds!,
    httpHost: p.HTTP_HOST!,
    httpPort: p.HTTP_PORT!,
    adminUsername: p.ADMIN_BASIC_USERNAME,
    adminPassword: p.ADMIN_BASIC_PASSWORD,
    internalSecret: p.INTERNAL_SECRET,
    runnerEnv: p.RUNNER_ENV!,
    shutdownGraceSeconds: p.SHUTDOWN_GRACE_SECONDS!,
    logLevel: p.LOG_LEVEL!,
    logFormat: p.LOG_FORMAT!,
    alertWebhookUrl: p.ALERT_WEBHOOK_URL,
    alertAfterFailures: p.ALERT_AFTER_FAILURES!,
    heartbeatPingUrl: p.HEARTBEAT_PING_URL,
    runRetentionDays: p.RUN_RETENTION_DAYS!,
    storageJanitorDir: p.STORAGE_JANITOR_DIR,
    storageJanitorMaxAgeHours: p.STORAGE_JANITOR_MAX_AGE_HOURS!,
    storageJanitorDryRun: p.STORAGE_JANITOR_DRY_RUN!,
    jobsFiles,
  };
}

/** The lease of a running row: long enough to survive two missed loops. */
export function leaseSeconds(config: Pick<Config, "intervalSeconds">): number {
  return Math.max(5, config.intervalSeconds * 3);
}
