import type { RunOutcome } from "../types.js";
import type { StoreScope } from "./fragments.js";
import { FAILURE_STATUSES, type FailureCount } from "./runs.js";

/** A stack beyond this is cut: the run page shows it, nothing parses it. */
const MAX_STACK_CHARS = 16_384;

/** One finished run to record. */
export interface FinishedRun {
  id: string;
  jobName: string;
  outcome: RunOutcome;
}

/**
 * Outcomes that finish together are written together: one statement updates every run's row and
 * every job's heartbeat row (job_heartbeats) for a whole batch. With one UPDATE and one upsert per
 * run, bookkeeping topped out near 2,700 runs a second here; batched, the database does the same
 * work in a few statements a second (docs/architecture.md#data-flow).
 */
export class OutcomeStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Record outcomes (in the order given, which is the order they finished). A row the reaper
   * already marked abandoned still gets its real outcome: the run did finish. Per run, the job's
   * consecutive failures before and after it (alerts fire on the crossing, so exactly one
   * replica sends each); undefined for a run whose row was not updated.
   */
  async finishRuns(runs: readonly FinishedRun[]): Promise<(FailureCount | undefined)[]> {
    if (runs.length === 0) return [];
    const { sql, runnerId } = this.scope;
    const input = runs.map((run, ord) => ({
      ord,
      id: run.id,
      job_name: run.jobName,
      status: run.outcome.status,
      duration_ms: Math.round(run.outcome.durationMs),
      error: run.outcome.error ?? null,
      // Kept for the run page; bounded, since a stack can grow without limit (recursion, long messages).
      error_stack: run.outcome.errorStack?.slice(0, MAX_STACK_CHARS) ?? null,
      result: run.outcome.result === undefined ? null : run.outcome.result,
      failed: FAILURE_STATUSES.includes(run.outcome.status),
    }));
    // CTEs are estimated at a handful of rows, so a join between two of them becomes a nested loop
    // (10,000 x 10,000 took 19 s): each job's summary is one window pass over the updated rows,
    // and the answer comes back as two lists rather than a join.
    const rows = await sql<
      {
        ord: number | null;
        name: string | null;
        consecutive_failures: number | null;
        previous: number | null;
      }[]
    >`
      with input as (
        select * from json_to_recordset(${sql.json(input as never)}::json)
          as i(ord int, id bigint, job_name text, status text, duration_ms int, error text, error_stack text, result jsonb, failed boolean)
      ), updated as (
        update job_runs r set status = i.status, finished_at = now(), duration_ms = i.duration_ms,
          error = i.error, error_stack = i.error_stack, result = i.result, lease_until = null
        from input i
        where r.id = i.id and r.status in ('running', 'abandoned')
        returning i.ord, i.job_name, i.status, i.error, i.failed
      ), marked as (
        select u.*, max(ord) filter (where status = 'succeeded') over (partition by job_name) as last_success
        from updated u
      ), per_job as (
        -- What the batch does to each job's row: a success resets the count, failures after the
        -- last success add to it, and other statuses (interrupted, skipped) leave it alone.
        select job_name, bool_or(status = 'succeeded') as succeeded,
          count(*) filter (where failed and ord > coalesce(last_success, -1))::int as failures,
          (array_agg(coalesce(error, status) order by ord desc) filter (where failed))[1] as last_error
        from marked group by job_name
      ), beats as (
        insert into job_heartbeats as h (name, runner_id, last_heartbeat, last_success_at, consecutive_failures, last_error, last_error_at)
        select job_name, ${runnerId}, now(), case when succeeded then now() end, failures,
          last_error, case when failures > 0 then now() end
        from per_job
        on conflict (name) do update set runner_id = excluded.runner_id, last_heartbeat = now(),
          last_success_at = coalesce(excluded.last_success_at, h.last_success_at),
          consecutive_failures = case when excluded.last_success_at is not null then excluded.consecutive_failures
            else h.consecutive_failures + excluded.consecutive_failures end,
          last_error = case when excluded.consecutive_failures > 0 then excluded.last_error
            when excluded.last_success_at is not null then null else h.last_error end,
          last_error_at = case when excluded.consecutive_failures > 0 then excluded.last_error_at
            when excluded.last_success_at is not null then null else h.last_error_at end
        -- A subquery in RETURNING reads the statement's snapshot: the value before this update.
        returning name, consecutive_failures, (select o.consecutive_failures from job_heartbeats o where o.name = h.name) as previous
      )
      select ord, null::text as name, null::int as consecutive_failures, null::int as previous from updated
      union all
      select null, name, consecutive_failures, previous from beats`;
    return failureCounts(runs, rows);
  }
}

/**
 * Each run's count before and after it, walked in finishing order from the job's count before the
 * batch; the last run of a job ends on the count the database holds now.
 */
function failureCounts(
  runs: readonly FinishedRun[],
  rows: {
    ord: number | null;
    name: string | null;
    consecutive_failures: number | null;
    previous: number | null;
  }[],
): (FailureCount | undefined)[] {
  const updated = new Set(rows.map((row) => row.ord));
  const perJob = new Map<string, { count: number; final: number }>();
  for (const row of rows) {
    if (row.name !== null && !perJob.has(row.name))
      perJob.set(row.name, { count: row.previous ?? 0, final: row.consecutive_failures ?? 0 });
  }
  const lastOf = new Map<string, number>();
  runs.forEach((run, ord) => {
    if (updated.has(ord)) lastOf.set(run.jobName, ord);
  });
  return runs.map((run, ord) => {
    const job = perJob.get(run.jobName);
    if (!updated.has(ord) || !job) return undefined;
    const previous = job.count;
    const status = run.outcome.status;
    if (status === "succeeded") job.count = 0;
    else if (FAILURE_STATUSES.includes(status)) job.count++;
    if (lastOf.get(run.jobName) === ord) job.count = job.final;
    return { previous, current: job.count };
  });
}
