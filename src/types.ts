import type { Logger } from "pino";
import type { Sql } from "postgres";

/** Every status a row of `job_runs` can hold. */
export type RunStatus =
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "skipped"
  | "interrupted"
  | "abandoned";

/** Why a run started. */
export type RunTrigger = "schedule" | "catch-up" | "manual" | "once" | "http" | "retry" | "backfill";

/** What to do with slots missed while no replica could run them. */
export type CatchUpPolicy = "none" | "latest" | "all";

/** What to do when a slot fires while the previous run of the same job is still going. */
export type OverlapPolicy = "skip" | "allow";

/**
 * Daylight saving time: which instants a local time that happens twice (`repeated`, clocks go
 * back) or not at all (`skipped`, clocks jump forward) becomes. See schedule/dst.ts.
 */
export interface DstPolicy {
  repeated: "first" | "last" | "both";
  skipped: "shift" | "skip";
}

export interface RetryOptions {
  /** Total attempts, the first included. @default 1 */
  attempts: number;
  /** @default "exponential" */
  backoff: "exponential" | "fixed";
  /** Delay before the second attempt, in milliseconds. @default 30000 */
  initialMs: number;
  /** Upper bound of any delay, in milliseconds. @default 3600000 */
  maxMs: number;
}

/** What a handler receives. */
export interface JobContext {
  /** Aborted on timeout and on shutdown: pass it to fetch, child processes, queries. */
  signal: AbortSignal;
  /** A child logger carrying job_name, run_id and attempt. */
  log: Logger;
  /** The runner's own database pool. */
  sql: Sql;
  params: Record<string, string>;
  runId: string;
  jobName: string;
  /** The cron instant this run belongs to; null for manual runs. */
  scheduledFor: Date | null;
  attempt: number;
  trigger: RunTrigger;
  /**
   * The same for every attempt of a slot, on every replica, after a catch-up too:
   * `<job>@<scheduledFor ISO>`. A run without a slot (manual, http, once) gets its first
   * attempt's run id. Send it to APIs that deduplicate (http jobs send it as Idempotency-Key).
   */
  idempotencyKey: string;
  /**
   * Grows with every run of the job (the job_runs id, a bigserial: later rows get larger ids).
   * A store that keeps the largest token it has seen can refuse a write from a run that lost
   * its lease and was replaced. Retries and newer slots have larger tokens.
   */
  fencingToken: number;
  /** Report progress; the latest value is kept with the run result. */
  progress(done: number, total?: number): void;
}

/** A handler may return a small JSON value, kept as the run's result. */
export type JobHandler = (ctx: JobContext) => unknown | Promise<unknown>;

/** The shape users write: durations as "10m" or milliseconds, retries as a number or an object. */
export interface JobInput {
  name: string;
  schedule: string;
  /** IANA time zone of the schedule. @default "UTC" */
  timezone?: string;
  /** "30s", "10m", "1h" or milliseconds. @default "1h" */
  timeout?: string | number;
  retries?:
    | number
    | {
        attempts?: number;
        backoff?: "exponential" | "fixed";
        initial?: string | number;
        max?: string | number;
      };
  /** @default "skip" */
  overlap?: OverlapPolicy;
  /** At most this many runs at once across every replica (claims beyond it are recorded skipped). */
  concurrency?: number;
  /** A mutual-exclusion group: runs of all its jobs count against JOB_GROUP_LIMITS' limit for it. */
  group?: string;
  /** Delay each slot's start by a deterministic amount up to this ("30s" or ms), the same on every replica. */
  jitter?: string | number;
  /** @default "latest" */
  catchUp?: CatchUpPolicy;
  /**
   * On DST transition days. Default: first/shift for a fixed-time schedule (`30 2 * * *`),
   * both/skip for an interval schedule (every 5 minutes, `0 * * * *`), as croner and Vixie cron do.
   */
  dst?: Partial<DstPolicy>;
  /** How far back missed slots are still worth running, in seconds. @default 3600 */
  misfireGraceSeconds?: number;
  description?: string;
  /** A healthchecks.io style URL: GET <url>/start, <url> on success, <url>/fail on failure. */
  ping?: string;
  /** Off: registered and listed, never fired by the schedule. @default true */
  enabled?: boolean;
  /** Pause the job after this many consecutive failures (reason: the last error); the alert says so. */
  pauseAfterFailures?: number;
  run: JobHandler;
}

/** A validated job, with every default applied. */
export interface Job {
  name: string;
  schedule: string;
  timezone: string;
  timeoutMs: number;
  retries: RetryOptions;
  overlap: OverlapPolicy;
  concurrency: number | undefined;
  group: string | undefined;
  jitterMs: number;
  catchUp: CatchUpPolicy;
  /** With the defaults applied. */
  dst: DstPolicy;
  misfireGraceSeconds: number;
  description: string;
  ping: string | undefined;
  enabled: boolean;
  /** Consecutive failures after which the job pauses itself; undefined: never. */
  pauseAfterFailures?: number;
  /** Where the job came from: "builtin", "code", a file path, or "api". */
  source: string;
  /** The declarative kind of a jobs-file or API job; undefined for a job written in code. */
  kind?: "http" | "command" | "sql";
  run: JobHandler;
}

/** The outcome of one finished attempt. */
export interface RunOutcome {
  status: Exclude<RunStatus, "running">;
  error?: string;
  errorStack?: string;
  result?: unknown;
  durationMs: number;
}

/** A slot to claim and run: a job, the instant it belongs to, and why it runs. */
export interface SlotFire {
  job: Job;
  instant: Date;
  trigger: RunTrigger;
}

/** The job_heartbeats row of the loop itself (not a job): a reserved job name. */
export const RUNNER_ROW = "jobs-runner";
