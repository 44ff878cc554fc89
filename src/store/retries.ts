import { type KnownJobs, knownWaiting, leaseEnd, type StoreScope, textList } from "./fragments.js";

/**
 * job_retries: the retries waiting for their backoff, as rows, so a retry outlives the process
 * that scheduled it (sql/008_persisted_retries.sql, docs/exactly-once.md#retries).
 */

/** A retry to schedule: the next attempt of the failed run `retryOf`. */
export interface NewRetry {
  retryOf: string;
  jobName: string;
  scheduledFor: Date | null;
  attempt: number;
  params: Record<string, string>;
  idempotencyKey: string;
  runAfter: Date;
  overlapSkip: boolean;
}

/** A retry waiting for its time. */
export interface PendingRetry {
  /** The failed run it retries (a string, like every run id). */
  retry_of: string;
  job_name: string;
  scheduled_for: Date | null;
  attempt: number;
  /** When it is due (job_retries.run_after). */
  due_at: Date;
  scheduled_by: string;
  overlap_skip: boolean;
}

/** A retry this replica took: its attempt's row is written, `running`, under `run_id`. */
export interface TakenRetry extends PendingRetry {
  run_id: string;
  params: Record<string, string> | null;
  idempotency_key: string;
}

/** The columns of a PendingRetry. */
const PENDING =
  "retry_of::text, job_name, scheduled_for, attempt, run_after as due_at, scheduled_by, overlap_skip";

export class RetryStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Record the next attempt of a failed run, due at `runAfter`. Idempotent: a second write for the
   * same run (its first answer lost, then tried again after the outcome) keeps the first.
   */
  async schedule(retry: NewRetry): Promise<void> {
    const { sql, runnerId } = this.scope;
    await sql`
      insert into job_retries (retry_of, job_name, scheduled_for, attempt, params, idempotency_key, run_after, overlap_skip, scheduled_by)
      values (${retry.retryOf}, ${retry.jobName}, ${retry.scheduledFor}, ${retry.attempt},
              ${Object.keys(retry.params).length > 0 ? sql.json(retry.params) : null}, ${retry.idempotencyKey},
              ${retry.runAfter}, ${retry.overlapSkip}, ${runnerId})
      on conflict (retry_of) do nothing`;
  }

  /**
   * Take a pending retry and write its attempt's row, `running` with this replica's lease, in one
   * statement. Deleting the row is the claim: of replicas taking it at once, the first deletes it
   * and the others find nothing, so exactly one gets it back. Undefined when it was taken already.
   */
  async take(retryOf: string): Promise<TakenRetry | undefined> {
    const { sql, runnerId, leaseSeconds } = this.scope;
    const [row] = await sql<TakenRetry[]>`
      with taken as (
        delete from job_retries where retry_of = ${retryOf} returning *
      ), started as (
        insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, lease_until, params)
        select job_name, scheduled_for, 'retry', attempt, 'running', ${runnerId}, ${leaseEnd(sql, leaseSeconds)}, params
        from taken
        on conflict (job_name, scheduled_for, attempt) where scheduled_for is not null do nothing
        returning id
      )
      select s.id::text as run_id, t.retry_of::text, t.job_name, t.scheduled_for, t.attempt, t.run_after as due_at,
        t.scheduled_by, t.overlap_skip, t.params, t.idempotency_key
      from taken t, started s`;
    return row;
  }

  /** The retries of these jobs due before `before`, soonest first (the loop arms a timer for each). */
  async dueBefore(known: KnownJobs, before: Date, limit = 1000): Promise<PendingRetry[]> {
    const { sql } = this.scope;
    const jobNames = await knownWaiting(sql, "job_retries", sql`run_after < ${before}`, known);
    if (jobNames.length === 0) return [];
    return sql<PendingRetry[]>`
      select ${sql.unsafe(PENDING)} from job_retries
      where run_after < ${before} and job_name in (${textList(sql, jobNames)})
      order by run_after limit ${limit}`;
  }

  /** A job's pending retries, soonest first. */
  async ofJob(jobName: string, limit = 100): Promise<PendingRetry[]> {
    const { sql } = this.scope;
    return sql<PendingRetry[]>`
      select ${sql.unsafe(PENDING)} from job_retries where job_name = ${jobName}
      order by run_after, retry_of limit ${limit}`;
  }

  /** Each job's soonest pending retry, with how many it has. */
  async nextPerJob(): Promise<Map<string, PendingRetry & { count: number }>> {
    const { sql } = this.scope;
    const rows = await sql<(PendingRetry & { count: number })[]>`
      select distinct on (job_name) ${sql.unsafe(PENDING)}, count(*) over (partition by job_name)::int as count
      from job_retries order by job_name, run_after, retry_of`;
    return new Map(rows.map((row) => [row.job_name, row]));
  }
}
