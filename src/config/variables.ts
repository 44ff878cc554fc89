import { hostname } from "node:os";
import type { z } from "zod";
import {
  bool,
  groupLimits,
  hostList,
  httpUrl,
  int,
  oneOf,
  pathList,
  postgresUrl,
  sqlIdentifier,
  text,
} from "./schemas.js";

/** The sections of the documentation (.env.example, the README's table), in their order. */
export const GROUPS = {
  database: "Database",
  loop: "Jobs and the loop",
  health: "Health",
  http: "HTTP sidecar (/livez /readyz /metrics, admin API)",
  logs: "Logs",
  alerts: "Alerts and dead man's switch",
  builtin: "Built-in jobs",
} as const;

/** One environment variable: where it goes in Config, how it is parsed, how it is documented. */
export interface Variable {
  /** Its field of Config. */
  key: string;
  /** Parses the text; its description names the values it accepts (see config/schemas.ts). */
  schema: z.ZodType;
  /** The text an unset or empty variable stands for. Without one (and without fallback), unset is allowed. */
  default?: string;
  /** A default that is not a constant: computed at load, documented by `text`. */
  fallback?: { text: string; value: () => unknown };
  group: keyof typeof GROUPS;
  /** One line for people: what it does. */
  description: string;
  /** Its value is never echoed in an error. */
  secret?: boolean;
}

/**
 * Every environment variable runner reads (docs/contract.md, Environment): Config's type, loadConfig,
 * .env.example, the README's table and the tests' fuzzers all come from here. The order is the order
 * of problem lines; the documentation orders by group.
 */
export const VARIABLES = {
  DATABASE_URL: {
    key: "databaseUrl",
    schema: postgresUrl,
    group: "database",
    secret: true,
    description: "The database. Unset: an embedded PostgreSQL is started with its data under ./.runner/.",
  },
  DATABASE_SCHEMA: {
    key: "databaseSchema",
    schema: sqlIdentifier,
    default: "public",
    group: "database",
    description: "Schema of the runner's tables (created by `runner migrate` or at startup).",
  },
  DATABASE_STARTUP_TIMEOUT_SECONDS: {
    key: "databaseStartupTimeoutSeconds",
    schema: int(0, 3600),
    default: "30",
    group: "database",
    description: "How long startup retries an unreachable database (with backoff) before exiting 3.",
  },
  JOBS_ENABLED: {
    key: "jobsEnabled",
    schema: bool,
    default: "true",
    group: "loop",
    description: "false: the daemon runs, heartbeats and serves HTTP, but starts no job runs.",
  },
  JOB_HEARTBEAT_REQUIRED: {
    key: "heartbeatRequired",
    schema: bool,
    default: "false",
    group: "health",
    description: "true: /readyz needs a fresh jobs-runner row (another replica's) when JOBS_ENABLED=false.",
  },
  JOB_HEARTBEAT_TTL_SECONDS: {
    key: "heartbeatTtlSeconds",
    schema: int(1, 86400),
    default: "180",
    group: "health",
    description: "A heartbeat older than this many seconds is stale (and /readyz fails when it is enforced).",
  },
  JOB_RUNNER_ID: {
    key: "runnerId",
    schema: text(200),
    fallback: { text: "the host name", value: hostname },
    group: "loop",
    description: "Identifies this process in heartbeats, runs, logs and status.",
  },
  JOB_LOOP_INTERVAL_SECONDS: {
    key: "intervalSeconds",
    schema: int(1, 3600),
    default: "60",
    group: "loop",
    description:
      "Loop cadence in seconds (--interval wins). Each loop writes the heartbeat, renews leases of running jobs, reaps abandoned runs, picks up manual triggers and missed slots.",
  },
  HTTP_HOST: {
    key: "httpHost",
    schema: text(),
    default: "127.0.0.1",
    group: "http",
    description: "Address the sidecar listens on; the default is this machine only (the image sets 0.0.0.0).",
  },
  HTTP_PORT: {
    key: "httpPort",
    schema: int(0, 65535),
    default: "9464",
    group: "http",
    description: "Port the sidecar listens on; 0 picks a free port and logs it.",
  },
  HTTP_MAX_CONNECTIONS: {
    key: "httpMaxConnections",
    schema: int(1, 100000),
    default: "256",
    group: "http",
    description: "Connections open at once; past it a new one is closed unanswered (logged).",
  },
  ADMIN_BASIC_USERNAME: {
    key: "adminUsername",
    schema: text()
      .refine((user) => !user.includes(":"), "must not contain ':' (Basic Auth ends the user name there)")
      .describe("text without ':'"),
    group: "http",
    description: "Basic Auth user of /v1/admin/*, /api/v1/* and the console.",
  },
  ADMIN_BASIC_PASSWORD: {
    key: "adminPassword",
    schema: text(),
    group: "http",
    secret: true,
    description: "Basic Auth password of /v1/admin/*, /api/v1/* and the console.",
  },
  INTERNAL_SECRET: {
    key: "internalSecret",
    schema: text(),
    group: "http",
    secret: true,
    description: "The x-internal-secret header expected by POST /v1/jobs/:name/trigger.",
  },
  ADMIN_AUTH: {
    key: "adminAuth",
    schema: oneOf(["auto", "none"]),
    default: "auto",
    group: "http",
    description:
      "auto: protected endpoints whose credentials are unset answer 503, unless HTTP_HOST is loopback outside production. none: they stay open on any address (put your own auth in front).",
  },
  RUNNER_ENV: {
    key: "runnerEnv",
    schema: oneOf(["development", "test", "staging", "production"]),
    default: "development",
    group: "http",
    description: "production: unset credentials answer 503, even on loopback (unless ADMIN_AUTH=none).",
  },
  SCHEDULER_API_ALLOWED_HOSTS: {
    key: "schedulerApiAllowedHosts",
    schema: hostList,
    group: "http",
    description: "Hosts jobs registered over HTTP may call (exact or .suffix); unset: refused in production.",
  },
  METRICS_PER_JOB: {
    key: "metricsPerJob",
    schema: oneOf(["auto", "on", "off"]),
    default: "auto",
    group: "http",
    description:
      "Per-job series (job_name) in /metrics. auto: on while this replica has at most 10,000 jobs (100,000 made a 50 MB scrape of seconds); off keeps runner_runs_total, runner_jobs and the loop's heartbeat.",
  },
  JOB_GROUP_LIMITS: {
    key: "groupLimits",
    schema: groupLimits,
    default: "",
    group: "loop",
    description:
      "Limits of the mutual-exclusion groups jobs name with `group`: runs at once across replicas, e.g. reports=2,etl=1.",
  },
  MAX_CONCURRENT_RUNS: {
    key: "maxConcurrentRuns",
    schema: int(1, 1_000_000),
    default: "20000",
    group: "loop",
    description:
      "Handlers this replica runs at once; slots beyond it are left to other replicas, and recorded skipped (missed: at capacity) when none had room.",
  },
  SHUTDOWN_GRACE_SECONDS: {
    key: "shutdownGraceSeconds",
    schema: int(0, 86400),
    default: "30",
    group: "loop",
    description:
      "How long SIGTERM/SIGINT waits for running jobs before aborting them (recorded interrupted).",
  },
  LOG_LEVEL: {
    key: "logLevel",
    schema: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
    group: "logs",
    description: "The least severe level logged.",
  },
  LOG_FORMAT: {
    key: "logFormat",
    schema: oneOf(["auto", "json", "pretty"]),
    default: "auto",
    group: "logs",
    description: "auto: pretty on a terminal, else json; json: one object per line; pretty: readable lines.",
  },
  RUN_OUTPUT_MAX_LINES: {
    key: "runOutputMaxLines",
    schema: int(0, 1_000_000),
    default: "1000",
    group: "logs",
    description:
      "A run keeps its last this many output lines (ctx.log, a command's stdout and stderr); 0 keeps none.",
  },
  RUN_OUTPUT_MAX_BYTES: {
    key: "runOutputMaxBytes",
    schema: int(0, 1_073_741_824),
    default: "262144",
    group: "logs",
    description: "A run keeps at most this many bytes of its last output lines (256 KiB); 0 keeps none.",
  },
  ALERT_WEBHOOK_URL: {
    key: "alertWebhookUrl",
    schema: httpUrl,
    group: "alerts",
    secret: true,
    description:
      "POST a JSON alert (Slack-compatible) when a job's consecutive failures reach ALERT_AFTER_FAILURES, and a resolve when it next succeeds.",
  },
  ALERT_AFTER_FAILURES: {
    key: "alertAfterFailures",
    schema: int(1, 1000),
    default: "3",
    group: "alerts",
    description: "Consecutive failures of a job that raise an alert.",
  },
  HEARTBEAT_PING_URL: {
    key: "heartbeatPingUrl",
    schema: httpUrl,
    group: "alerts",
    secret: true,
    description: "GET this URL after every healthy loop (Healthchecks.io, Better Stack heartbeats).",
  },
  RUN_RETENTION_DAYS: {
    key: "runRetentionDays",
    schema: int(0, 36500),
    default: "30",
    group: "builtin",
    description:
      "prune_runs deletes job_runs older than this many days, daily at 04:17 UTC (0: keep everything).",
  },
  STORAGE_JANITOR_DIR: {
    key: "storageJanitorDir",
    schema: text(),
    group: "builtin",
    description:
      "storage_janitor is on when this directory is set: daily at 03:00 UTC it deletes files under it older than STORAGE_JANITOR_MAX_AGE_HOURS.",
  },
  STORAGE_JANITOR_MAX_AGE_HOURS: {
    key: "storageJanitorMaxAgeHours",
    schema: int(1, 87600),
    default: "24",
    group: "builtin",
    description: "Age in hours from which storage_janitor deletes a file.",
  },
  STORAGE_JANITOR_DRY_RUN: {
    key: "storageJanitorDryRun",
    schema: bool,
    default: "false",
    group: "builtin",
    description: "true: storage_janitor only reports the files it would delete.",
  },
  JOBS_FILE: {
    key: "jobsFiles",
    schema: pathList,
    default: "",
    group: "loop",
    description: "Jobs modules (.js/.mjs) and jobs files (.yaml/.yml/.json); --jobs adds more.",
  },
} as const satisfies Record<string, Variable>;
