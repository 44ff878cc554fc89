import type { Registry } from "../jobs/registry.js";
import { nextInstant } from "../schedule/cron.js";
import { type Overdue, OverdueClock } from "../schedule/overdue.js";
import { type PendingRetry, RUNNER_ROW, type Store } from "../store/store.js";
import type { Job } from "../types.js";
import { iso } from "../util/iso.js";
import { type JobView, jobView } from "./job-view.js";

/**
 * The fields of GET /v1/admin/jobs/status and `runner status`: a job's state from the database,
 * with its view (JobView) when this process knows its definition.
 */
export type JobStatus = Partial<JobView> & {
  name: string;
  last_heartbeat: string | null;
  runner_id: string | null;
  last_success_at: string | null;
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: string | null;
  next_run_at: string | null;
  paused: boolean;
  /** Who paused it, why, and when it resumes by itself (null: until someone resumes it). */
  paused_by: string | null;
  paused_reason: string | null;
  paused_until: string | null;
  running: number;
  /** The newest running run's latest ctx.progress, or null. */
  progress: { done: number; total: number | null } | null;
  /** The newest slot whose grace has passed (schedule/overdue.ts); null without a schedule here. */
  expected_last_run_at: string | null;
  /** Seconds that slot has gone without a success past its grace; 0 on track, null as above. */
  overdue_seconds: number | null;
  /** The job's soonest retry waiting for its backoff (job_retries), and how many wait; null: none. */
  pending_retry: (PendingRetryView & { count: number }) | null;
};

/** A retry waiting for its backoff, as status and history show it. */
export interface PendingRetryView {
  /** The failed run it retries. */
  retry_of: string;
  attempt: number;
  due_at: string | null;
  scheduled_for: string | null;
  scheduled_by: string;
}

export function pendingRetryView(row: PendingRetry): PendingRetryView {
  return {
    retry_of: row.retry_of,
    attempt: row.attempt,
    due_at: iso(row.due_at),
    scheduled_for: iso(row.scheduled_for),
    scheduled_by: row.scheduled_by,
  };
}

/** "attempt 2 due 2026-01-01T03:00:05.000Z (+1 more)": a pending retry in a table cell. */
export function pendingRetryText(retry: (PendingRetryView & { count?: number }) | null): string | null {
  if (!retry) return null;
  const more = (retry.count ?? 1) > 1 ? ` (+${(retry.count ?? 1) - 1} more)` : "";
  return `attempt ${retry.attempt} due ${retry.due_at}${more}`;
}

/**
 * One clock for every call: it remembers each schedule's expected slot until the next one is due,
 * so a page or a status of 1,000 jobs computes them once per slot rather than on every request
 * (about 0.2 ms a job: 200 ms a call for 1,000 jobs).
 */
const clock = new OverdueClock();

type StatusRow = Awaited<ReturnType<Store["status"]>>[number];

/** A job's state before it is written out: the database's row, its definition here, times as Dates. */
export interface JobState {
  row: StatusRow;
  job: Job | undefined;
  next: Date | null | undefined;
  late: Overdue | undefined;
  /** The job's soonest retry waiting for its backoff, with how many wait. */
  retry: (PendingRetry & { count: number }) | undefined;
}

/**
 * Per-job state from the database, with next runs from this process's registry. Jobs known only
 * to the database (other replicas, removed jobs) are listed too, without a next run. With `only`,
 * that one job's (an empty list when the database has no row for it). The console counts and
 * filters 1,000 of these and writes out only the 50 it shows (statusOf).
 */
export async function jobStates(
  store: Store,
  registry: Registry,
  nextRunAt?: (name: string) => Date | undefined,
  only?: string,
): Promise<JobState[]> {
  const [rows, retries] = await Promise.all([store.status(only), store.retries.nextPerJob()]);
  const now = new Date();
  return rows.map((row) => {
    const job = row.name === RUNNER_ROW ? undefined : registry.get(row.name);
    const next = job && (nextRunAt?.(row.name) ?? nextInstant(job.schedule, job.timezone, now, job.dst));
    const late =
      job &&
      clock.overdue(
        job,
        { lastSuccessAt: row.last_success_at, firstSeenAt: row.first_seen_at },
        now.getTime(),
      );
    return { row, job, next, late, retry: retries.get(row.name) };
  });
}

/** A state as GET /v1/admin/jobs/status writes it. */
export function statusOf({ row, job, next, late, retry }: JobState): JobStatus {
  const view = job ? jobView(job, next) : undefined;
  return {
    ...view,
    name: row.name,
    last_heartbeat: iso(row.last_heartbeat),
    runner_id: row.runner_id,
    last_success_at: iso(row.last_success_at),
    consecutive_failures: row.consecutive_failures,
    last_error: row.last_error,
    last_error_at: iso(row.last_error_at),
    next_run_at: view?.next_run_at ?? null,
    paused: row.paused,
    paused_by: row.paused_by,
    paused_reason: row.paused_reason,
    paused_until: iso(row.paused_until),
    running: row.running,
    progress: row.progress,
    expected_last_run_at: iso(late?.expectedLastRunAt),
    overdue_seconds: late ? Math.floor(late.overdueSeconds) : null,
    pending_retry: pendingRetryOf(retry),
  };
}

/** Every job's status (or one job's, with `only`), as jobStates says, written out. */
export async function jobStatus(
  store: Store,
  registry: Registry,
  nextRunAt?: (name: string) => Date | undefined,
  only?: string,
): Promise<JobStatus[]> {
  return (await jobStates(store, registry, nextRunAt, only)).map(statusOf);
}

/** "3/10", "3" without a total, or nothing. */
export function progressText(progress: { done: number; total: number | null } | null): string | null {
  if (!progress) return null;
  return progress.total === null ? String(progress.done) : `${progress.done}/${progress.total}`;
}

function pendingRetryOf(row: (PendingRetry & { count: number }) | undefined): JobStatus["pending_retry"] {
  return row ? { ...pendingRetryView(row), count: row.count } : null;
}
