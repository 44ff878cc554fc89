import type { BackfillWindow } from "../util/backfill-input.js";
import { type KnownJobs, knownWaiting, leaseEnd, type StoreScope, textList } from "./fragments.js";

/**
 * Backfill (docs/exactly-once.md#backfill): past slots run again as their slot, trigger
 * `backfill`, under the slot key. job_backfills holds the requests the running daemons share.
 */

/** What the database says of one slot of a backfill window. */
export interface SlotState {
  scheduled_for: Date;
  /** A run of the slot succeeded, ever. */
  succeeded: boolean;
  /** A run of the slot that started before the backfill began succeeded: the slot was not missing. */
  succeeded_before: boolean;
  /** A run of the slot is going on (this process's or another's). */
  running: boolean;
  /** A run of the slot started since the backfill began ended failed or timed out: it had its turn. */
  failed: boolean;
}

/** The limits a backfill's claim honours, besides the slot key. */
export interface BackfillClaim {
  jobName: string;
  /** The window, inclusive: runs of slots in it count against `concurrency`. */
  from: Date;
  to: Date;
  /** When the backfill began: a slot that failed since then is not claimed again. */
  since: Date;
  /** The slots to try, oldest first. */
  slots: Date[];
  /** Backfill runs of this window going on at once, across processes. */
  concurrency: number;
  /** The job's overlap is skip: nothing is claimed while any run of the job is going on. */
  skipOverlap: boolean;
  /** The job's own `concurrency`, counted over every run of the job. */
  maxRunning?: number;
  /** At least this long between two backfill starts of the job (from --rate); 0: none. */
  spacingSeconds: number;
  /** The job's mutual-exclusion group: at most `max` runs of its `jobs` at once. */
  group?: { max: number; jobs: string[] };
}

export interface ClaimedBackfill {
  id: string;
  scheduled_for: Date;
  attempt: number;
}

/** Open requests per job: more would only poll the same slots. */
export const MAX_OPEN_BACKFILLS = 10;

export interface BackfillRequest {
  id: string;
  job_name: string;
  window_from: Date;
  window_to: Date;
  concurrency: number;
  rate: number | null;
  requested_by: string;
  requested_at: Date;
}

/** A request as the job page lists it: finished with its summary, or open with its runs so far. */
export interface BackfillListed extends BackfillRequest {
  finished_at: Date | null;
  /** What the replica that closed it saw: slots, already_succeeded, succeeded, failed. */
  summary: Record<string, number> | null;
  /** An open request's backfill runs in its window since it was asked for; null once finished. */
  progress: { succeeded: number; failed: number; running: number } | null;
}

export class BackfillStore {
  constructor(private readonly scope: StoreScope) {}

  /** The database's clock: a backfill's start, compared with started_at written by now(). */
  async now(): Promise<Date> {
    const [row] = await this.scope.sql<{ now: Date }[]>`select now()`;
    return row!.now;
  }

  /** The slots of the window that have rows, one entry each (the slot key's index covers the range). */
  async slotStates(jobName: string, from: Date, to: Date, since: Date): Promise<SlotState[]> {
    return this.scope.sql<SlotState[]>`
      select scheduled_for,
        bool_or(status = 'succeeded') as succeeded,
        bool_or(status = 'succeeded' and started_at < ${since}) as succeeded_before,
        bool_or(status = 'running') as running,
        bool_or(status in ('failed', 'timed_out') and started_at >= ${since}) as failed
      from job_runs
      where job_name = ${jobName} and scheduled_for >= ${from} and scheduled_for <= ${to}
      group by scheduled_for`;
  }

  /**
   * Claim slots for a backfill in one statement: each as its next attempt (the slot key makes the
   * insert the lock), only while the slot has no success, no run going on, and no failed run since
   * the backfill began; only as many as the limits leave room for; none while the job is paused.
   */
  async claim(claim: BackfillClaim): Promise<ClaimedBackfill[]> {
    if (claim.slots.length === 0) return [];
    const { sql, runnerId, leaseSeconds } = this.scope;
    const { jobName, from, to, since } = claim;
    const slots = claim.slots.map((at) => ({ scheduled_for: at.toISOString() }));
    return sql<ClaimedBackfill[]>`
      with c as (
        select c.scheduled_for, row_number() over (order by c.scheduled_for) as rank
        from json_to_recordset(${sql.json(slots)}::json) as c(scheduled_for timestamptz)
        where not exists (select 1 from job_state s where s.job_name = ${jobName} and s.paused)
          and not exists (select 1 from job_runs r where r.job_name = ${jobName} and r.scheduled_for = c.scheduled_for
            and (r.status in ('succeeded', 'running')
                 or (r.status in ('failed', 'timed_out') and r.started_at >= ${since})))
      ), room as (
        select
          (select count(*) from job_runs r where r.job_name = ${jobName} and r.status = 'running') as running,
          (select count(*) from job_runs r where r.job_name = ${jobName} and r.status = 'running'
             and r.scheduled_for >= ${from} and r.scheduled_for <= ${to}) as in_window,
          exists (select 1 from job_runs r where r.job_name = ${jobName} and r.trigger = 'backfill'
             and r.started_at > now() - make_interval(secs => ${claim.spacingSeconds})) as too_soon,
          (select count(*) from job_runs r where r.status = 'running'
             and r.job_name in (${textList(sql, claim.group?.jobs ?? [])})) as in_group
      )
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at, lease_until)
      select ${jobName}, c.scheduled_for, 'backfill',
        coalesce((select max(r.attempt) from job_runs r where r.job_name = ${jobName} and r.scheduled_for = c.scheduled_for), 0) + 1,
        'running', ${runnerId}, now(), ${leaseEnd(sql, leaseSeconds)}
      from c, room
      where c.rank + room.in_window <= ${claim.concurrency}
        and (${claim.maxRunning ?? null}::int is null or c.rank + room.running <= ${claim.maxRunning ?? null}::int)
        and not (${claim.skipOverlap} and room.running > 0)
        and not room.too_soon
        and (${claim.group?.max ?? null}::int is null or c.rank + room.in_group <= ${claim.group?.max ?? null}::int)
      on conflict (job_name, scheduled_for, attempt) where scheduled_for is not null do nothing
      returning id::text, scheduled_for, attempt`;
  }

  /** Whether the job is paused: a backfill claims nothing then, and stops instead of waiting. */
  async paused(jobName: string): Promise<boolean> {
    const [row] = await this.scope.sql<{ paused: boolean }[]>`
      select exists (select 1 from job_state where job_name = ${jobName} and paused) as paused`;
    return row!.paused;
  }

  /**
   * A request for the running daemons; returns its id, or null when the job has
   * MAX_OPEN_BACKFILLS open already (each open request is polled by every replica that has the job).
   */
  async request(jobName: string, window: BackfillWindow, requestedBy: string): Promise<string | null> {
    const [row] = await this.scope.sql<{ id: string }[]>`
      insert into job_backfills (job_name, window_from, window_to, concurrency, rate, requested_by)
      select ${jobName}, ${window.from}, ${window.to}, ${window.concurrency}, ${window.rate}, ${requestedBy}
      where (select count(*) from job_backfills where job_name = ${jobName} and finished_at is null) < ${MAX_OPEN_BACKFILLS}
      returning id::text`;
    return row?.id ?? null;
  }

  /** The open requests for these jobs, oldest first. */
  async open(known: KnownJobs): Promise<BackfillRequest[]> {
    const { sql } = this.scope;
    const jobNames = await knownWaiting(sql, "job_backfills", sql`finished_at is null`, known);
    if (jobNames.length === 0) return [];
    return sql<BackfillRequest[]>`
      select id::text, job_name, window_from, window_to, concurrency, rate, requested_by, requested_at
      from job_backfills where finished_at is null and job_name in (${textList(sql, jobNames)})
      order by id limit 100`;
  }

  /** Close a request once every slot is decided; the first replica to see it done writes the summary. */
  async finish(id: string, summary: Record<string, number>): Promise<void> {
    const { sql } = this.scope;
    await sql`
      update job_backfills set finished_at = now(), summary = ${sql.json(summary)}
      where id = ${id} and finished_at is null`;
  }

  /**
   * The job's newest requests, newest first (job_backfills_job_idx). An open one's progress counts
   * the backfill runs of its window through the slot key's index: at most MAX_OPEN_BACKFILLS
   * windows of at most MAX_BACKFILL_SLOTS slots each.
   */
  async recent(jobName: string, limit: number): Promise<BackfillListed[]> {
    return this.scope.sql<BackfillListed[]>`
      select b.id::text, b.job_name, b.window_from, b.window_to, b.concurrency, b.rate, b.requested_by,
        b.requested_at, b.finished_at, b.summary,
        case when b.finished_at is null then json_build_object(
          'succeeded', p.succeeded, 'failed', p.failed, 'running', p.running) end as progress
      from (select * from job_backfills where job_name = ${jobName} order by id desc limit ${limit}) b
      left join lateral (
        select count(*) filter (where r.status = 'succeeded')::int as succeeded,
          count(*) filter (where r.status in ('failed', 'timed_out', 'interrupted', 'abandoned'))::int as failed,
          count(*) filter (where r.status = 'running')::int as running
        from job_runs r
        where b.finished_at is null and r.job_name = b.job_name and r.scheduled_for >= b.window_from
          and r.scheduled_for <= b.window_to and r.trigger = 'backfill' and r.started_at >= b.requested_at
      ) p on true
      order by b.id desc`;
  }
}
