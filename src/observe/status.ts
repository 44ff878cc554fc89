import { nextInstant } from "../schedule/cron.js";
import type { Registry } from "../jobs/registry.js";
import { RUNNER_ROW, type Store } from "../store/store.js";

/** The fields of GET /v1/admin/jobs/status and `runner status`. */
export interface JobStatus {
  name: string;
  last_heartbeat: string | null;
  runner_id: string | null;
  last_success_at: string | null;
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: string | null;
  next_run_at: string | null;
  paused: boolean;
  running: number;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

/**
 * Per-job state from the database, with next runs from this process's registry. Jobs known only
 * to the database (other replicas, removed jobs) are listed too, without a next run.
 */
export async function jobStatus(
  store: Store,
  registry: Registry,
  nextRunAt?: (name: string) => Date | undefined,
): Promise<JobStatus[]> {
  const rows = await store.status();
  const now = new Date();
  return rows.map((row) => {
    const job = registry.get(row.name);
    const next =
      row.name === RUNNER_ROW || !job || !job.enabled
        ? null
        : (nextRunAt?.(row.name) ?? nextInstant(job.schedule, job.timezone, now));
    return {
      name: row.name,
      last_heartbeat: iso(row.last_heartbeat),
      runner_id: row.runner_id,
      last_success_at: iso(row.last_success_at),
      consecutive_failures: row.consecutive_failures,
      last_error: row.last_error,
      last_error_at: iso(row.last_error_at),
      next_run_at: iso(next),
      paused: row.paused,
      running: row.running,
    };
  });
}
