import type { Job } from "../types.js";
import { iso } from "../util/iso.js";

/**
 * One job as every output shows it: GET /api/v1/scheduler/jobs, GET /v1/admin/jobs/status (with
 * its state added), `runner jobs --json` and the in-process listScheduledJobs(). Field names are
 * snake_case in every HTTP and JSON output (docs/contract.md#http).
 */
export interface JobView {
  name: string;
  schedule: string;
  timezone: string;
  next_run_at: string | null;
  timeout_ms: number;
  /** Attempts after the first one that failed (0: no retries). */
  retries: number;
  overlap: string;
  catch_up: string;
  description: string;
  source: string;
  enabled: boolean;
}

export function jobView(job: Job, nextRunAt: Date | null | undefined): JobView {
  return {
    name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    next_run_at: job.enabled ? iso(nextRunAt) : null,
    timeout_ms: job.timeoutMs,
    retries: job.retries.attempts - 1,
    overlap: job.overlap,
    catch_up: job.catchUp,
    description: job.description,
    source: job.source,
    enabled: job.enabled,
  };
}
