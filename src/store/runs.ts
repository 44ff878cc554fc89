import type { RunStatus, RunTrigger } from "../types.js";
import { endedNow, idList, leaseEnd, progressJson, type StoreScope } from "./fragments.js";

/** job_runs: one row per run attempt; claiming a slot is inserting its first attempt. */

export interface RunRow {
  id: string;
  job_name: string;
  scheduled_for: Date | null;
  trigger: RunTrigger;
  attempt: number;
  status: RunStatus;
  runner_id: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  result: unknown;
  params: Record<string, string> | null;
  /** The run's latest ctx.progress, or null when it reported none. */
  progress: RunProgress | null;
}

export interface RunProgress {
  done: number;
  total: number | null;
}

export interface SlotClaim {
  jobName: string;
  scheduledFor: Date;
  /** When the run starts: the slot, or later with the job's jitter. @default scheduledFor */
  startAt?: Date;
  trigger: RunTrigger;
  skipOverlap: boolean;
  /** The job's `concurrency`: runs at once across replicas. */
  maxRunning?: number;
  /** The job's mutual-exclusion group, its limit and every job in it. */
  group?: { name: string; max: number; jobs: string[] };
}

interface ClaimedRow {
  job_name: string;
  scheduled_for: Date;
  /** Why a skipped slot did not run; who paused a paused one (and why). */
  error: string | null;
}

/** A claimed or skipped slot (its row's id), or a paused one (no row). */
export type ClaimedSlot =
  | (ClaimedRow & { id: string; status: "running" | "skipped" })
  | (ClaimedRow & { id: null; status: "paused" });

/** A run that needs no slot claim: manual, once, http, retry. */
export interface NewRun {
  jobName: string;
  trigger: RunTrigger;
  attempt: number;
  scheduledFor: Date | null;
  params: Record<string, string>;
}

/** A job's consecutive failures after a run, and before it. */
export interface FailureCount {
  current: number;
  previous: number;
}

/** Statuses that count as a failure of the job in its heartbeat row. */
export const FAILURE_STATUSES: readonly RunStatus[] = ["failed", "timed_out", "abandoned"];

export class RunStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Claim many slots in one statement. A slot already in job_runs (claimed by any replica) yields
   * no row; a slot of a paused job is returned `paused` with who paused it, and not inserted. A
   * slot is recorded `skipped` instead of running when its job is still running elsewhere
   * (overlap skip), or when its job's `concurrency` or its group's limit is reached, counting
   * runs going on now and the slots ahead of it in this same claim. Only the returned `running`
   * and `skipped` rows are this replica's to act on.
   */
  async claimSlots(claims: SlotClaim[]): Promise<ClaimedSlot[]> {
    if (claims.length === 0) return [];
    const { sql, runnerId, leaseSeconds } = this.scope;
    const input = claims.map((c) => ({
      job_name: c.jobName,
      scheduled_for: c.scheduledFor.toISOString(),
      start_at: (c.startAt ?? c.scheduledFor).toISOString(),
      trigger: c.trigger,
      skip: c.skipOverlap,
      job_max: c.maxRunning ?? null,
      group_name: c.group?.name ?? null,
      group_max: c.group?.max ?? null,
      group_jobs: c.group?.jobs ?? null,
    }));
    return sql<ClaimedSlot[]>`
      with input as (
        select * from json_to_recordset(${sql.json(input as never)}::json)
             as c(job_name text, scheduled_for timestamptz, start_at timestamptz, trigger text, skip boolean,
                  job_max int, group_name text, group_max int, group_jobs json)
      ), paused as (
        -- Slots of a paused job nobody holds yet: returned (not inserted) for the slot ledger.
        select i.job_name, i.scheduled_for, s.paused_by, s.paused_reason from input i
        join job_state s on s.job_name = i.job_name and s.paused
        where not exists (select 1 from job_runs r where r.job_name = i.job_name and r.scheduled_for = i.scheduled_for)
      ), c as (
        select c.*,
          row_number() over (partition by c.job_name order by c.scheduled_for) as job_rank,
          row_number() over (partition by c.group_name order by c.scheduled_for, c.job_name) as group_rank
        from input c
        where not exists (select 1 from job_state s where s.job_name = c.job_name and s.paused)
      ), decided as (
        select c.*, case
          when c.skip and exists (select 1 from job_runs r where r.job_name = c.job_name and r.status = 'running')
            then 'previous run still running (overlap: skip)'
          when c.job_max is not null and c.job_rank + (select count(*) from job_runs r
              where r.job_name = c.job_name and r.status = 'running') > c.job_max
            then 'concurrency limit reached (' || c.job_max || ' running)'
          when c.group_max is not null and c.group_rank + (select count(*) from job_runs r
              where r.status = 'running' and r.job_name in (select json_array_elements_text(c.group_jobs))) > c.group_max
            then 'group ' || c.group_name || ' limit reached (' || c.group_max || ' running)'
          end as refused
        from c
      ), claimed as (
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at, lease_until, finished_at, duration_ms, error)
      select job_name, scheduled_for, trigger, 1, case when refused is null then 'running' else 'skipped' end, ${runnerId},
        -- Claimed slightly ahead of its instant, a run starts at the instant (plus its jitter).
        greatest(now(), start_at),
        case when refused is null then ${leaseEnd(sql, leaseSeconds)} end,
        case when refused is not null then now() end,
        case when refused is not null then 0 end,
        refused
      from decided
      on conflict (job_name, scheduled_for, attempt) where scheduled_for is not null do nothing
      returning id::text, job_name, scheduled_for, status, error
      )
      select * from claimed
      union all
      select null, job_name, scheduled_for, 'paused',
        'paused by ' || coalesce(paused_by, 'unknown') || coalesce(': ' || paused_reason, '') from paused`;
  }

  /**
   * Record slots that nobody ran as `skipped` with the reason, unless a replica claimed them:
   * once across replicas (the slot's unique key). Returns the job of each slot this call recorded.
   */
  async recordMissed(slots: { jobName: string; scheduledFor: Date }[], reason: string): Promise<string[]> {
    if (slots.length === 0) return [];
    const { sql, runnerId } = this.scope;
    const rows = await sql`
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at, finished_at, duration_ms, error)
      select job_name, scheduled_for, 'schedule', 1, 'skipped', ${runnerId}, scheduled_for, now(), 0, ${reason}
      from json_to_recordset(${sql.json(slots.map((s) => ({ job_name: s.jobName, scheduled_for: s.scheduledFor.toISOString() })))}::json)
        as m(job_name text, scheduled_for timestamptz)
      on conflict (job_name, scheduled_for, attempt) where scheduled_for is not null do nothing
      returning job_name`;
    return rows.map((row) => row.job_name as string);
  }

  /** Insert a running row for a run that needs no slot claim: manual, once, http, retry. */
  async insertRun(run: NewRun): Promise<string> {
    const { sql, runnerId, leaseSeconds } = this.scope;
    const [row] = await sql<{ id: string }[]>`
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, lease_until, params)
      values (${run.jobName}, ${run.scheduledFor}, ${run.trigger}, ${run.attempt}, 'running', ${runnerId},
              ${leaseEnd(sql, leaseSeconds)},
              ${Object.keys(run.params).length > 0 ? sql.json(run.params) : null})
      returning id::text`;
    return row!.id;
  }

  async renewLeases(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { sql, leaseSeconds } = this.scope;
    await sql`
      update job_runs set lease_until = ${leaseEnd(sql, leaseSeconds)}
      where id in (${idList(sql, ids)}) and status = 'running'`;
  }

  /**
   * Mark runs whose lease expired as abandoned (their runner died) and count each as a failure
   * of its job. Idempotent and cheap: an index covers running rows.
   */
  async reapAbandoned(): Promise<
    { id: string; job_name: string; runner_id: string; consecutive_failures: number }[]
  > {
    const { sql, runnerId } = this.scope;
    return sql`
      with reaped as (
        update job_runs set status = 'abandoned', ${endedNow(sql)},
          error = 'runner ' || runner_id || ' stopped renewing its lease (presumed dead)'
        where status = 'running' and lease_until < now()
        returning id, job_name, runner_id, error
      ), per_job as (
        select job_name, count(*)::int as n, max(error) as error from reaped group by job_name
      ), beats as (
        insert into job_heartbeats as h (name, runner_id, consecutive_failures, last_error, last_error_at)
        select job_name, ${runnerId}, n, error, now() from per_job
        on conflict (name) do update set consecutive_failures = h.consecutive_failures + excluded.consecutive_failures,
          last_error = excluded.last_error, last_error_at = now()
        returning name, consecutive_failures
      )
      select r.id::text, r.job_name, r.runner_id, b.consecutive_failures
      from reaped r join beats b on b.name = r.job_name`;
  }

  async markInterrupted(ids: string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    const { sql } = this.scope;
    await sql`
      update job_runs set status = 'interrupted', ${endedNow(sql)}, error = ${reason}
      where id in (${idList(sql, ids)}) and status = 'running'`;
  }

  async isRunning(jobName: string): Promise<boolean> {
    const [row] = await this.scope.sql<{ running: boolean }[]>`
      select exists (select 1 from job_runs where job_name = ${jobName} and status = 'running') as running`;
    return row!.running;
  }

  /**
   * Keep a run's latest ctx.progress(done, total). Only a row still running takes it: a late
   * report from a run already finished, reaped or interrupted changes nothing.
   * Throws a RangeError for a negative or non-finite number (the table's check would refuse it).
   */
  async setProgress(runId: string, done: number, total: number | null): Promise<void> {
    const valid = (n: number) => Number.isFinite(n) && n >= 0;
    if (!valid(done) || (total !== null && !valid(total)))
      throw new RangeError(`progress: expected finite numbers from 0 (got done ${done}, total ${total})`);
    await this.scope.sql`
      update job_runs set progress_done = ${done}, progress_total = ${total}
      where id = ${runId} and status = 'running'`;
  }

  /** The columns of a RunRow, as one SQL fragment. */
  private runColumns() {
    return this.scope.sql`id::text, job_name, scheduled_for, trigger, attempt, status, runner_id, started_at,
      finished_at, duration_ms, error, result, params, ${progressJson(this.scope.sql)} as progress`;
  }

  async history(jobName: string, limit: number): Promise<RunRow[]> {
    return this.scope.sql<RunRow[]>`
      select ${this.runColumns()}
      from job_runs where job_name = ${jobName} order by started_at desc, id desc limit ${limit}`;
  }

  async lastFinishedRun(jobName: string): Promise<RunRow | undefined> {
    const [row] = await this.scope.sql<RunRow[]>`
      select ${this.runColumns()}
      from job_runs where job_name = ${jobName} and status not in ('running', 'skipped')
      order by finished_at desc nulls last, id desc limit 1`;
    return row;
  }
}
