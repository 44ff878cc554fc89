import type { Sql } from "postgres";
import type { RunOutcome, RunStatus, RunTrigger } from "../types.js";

/**
 * Every SQL statement of the runner lives here; callers see plain rows.
 * Lists travel as one JSON parameter (json_to_recordset, json_array_elements_text): one statement
 * for any number of items, and no dependence on the driver's array type discovery, which a
 * brand-new connection may not have finished.
 */

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
}

export interface HeartbeatRow {
  name: string;
  runner_id: string;
  last_heartbeat: Date;
  last_success_at: Date | null;
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: Date | null;
}

export interface SlotClaim {
  jobName: string;
  scheduledFor: Date;
  trigger: RunTrigger;
  skipOverlap: boolean;
}

export interface ClaimedSlot {
  id: string;
  job_name: string;
  scheduled_for: Date;
  status: "running" | "skipped";
}

/** A job's consecutive failures after a run, and before it. */
export interface FailureCount {
  current: number;
  previous: number;
}

export interface TriggerRow {
  id: string;
  job_name: string;
  params: Record<string, string>;
  trigger: RunTrigger;
  requested_by: string | null;
}

/** Statuses that count as a failure of the job in its heartbeat row. */
export const FAILURE_STATUSES: readonly RunStatus[] = ["failed", "timed_out", "abandoned"];

export const RUNNER_ROW = "jobs-runner";

export class Store {
  constructor(
    readonly sql: Sql,
    private readonly runnerId: string,
    private readonly leaseSeconds: number,
  ) {}

  /**
   * Claim many slots in one statement. A slot already in job_runs (claimed by any replica) or a
   * paused job yields no row; a slot whose job is still running elsewhere (overlap skip) is
   * recorded `skipped`. Only the returned rows are this replica's to act on.
   */
  async claimSlots(claims: SlotClaim[]): Promise<ClaimedSlot[]> {
    if (claims.length === 0) return [];
    const sql = this.sql;
    return sql<ClaimedSlot[]>`
      with c as (
        select c.job_name, c.scheduled_for, c.trigger,
          case when c.skip and exists (
            select 1 from job_runs r where r.job_name = c.job_name and r.status = 'running'
          ) then 'skipped' else 'running' end as status
        from json_to_recordset(${sql.json(claims.map((c) => ({ job_name: c.jobName, scheduled_for: c.scheduledFor.toISOString(), trigger: c.trigger, skip: c.skipOverlap })))}::json)
             as c(job_name text, scheduled_for timestamptz, trigger text, skip boolean)
        where not exists (select 1 from job_state s where s.job_name = c.job_name and s.paused)
      )
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at, lease_until, finished_at, duration_ms, error)
      select job_name, scheduled_for, trigger, 1, status, ${this.runnerId},
        -- Claimed slightly ahead of its instant, a run starts at the instant.
        greatest(now(), scheduled_for),
        case when status = 'running' then now() + make_interval(secs => ${this.leaseSeconds}) end,
        case when status = 'skipped' then now() end,
        case when status = 'skipped' then 0 end,
        case when status = 'skipped' then 'previous run still running (overlap: skip)' end
      from c
      on conflict (job_name, scheduled_for, attempt) where scheduled_for is not null do nothing
      returning id::text, job_name, scheduled_for, status`;
  }

  /** Insert a running row for a run that needs no slot claim: manual, once, http, retry. */
  async insertRun(run: {
    jobName: string;
    trigger: RunTrigger;
    attempt: number;
    scheduledFor: Date | null;
    params: Record<string, string>;
  }): Promise<string> {
    const [row] = await this.sql<{ id: string }[]>`
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, lease_until, params)
      values (${run.jobName}, ${run.scheduledFor}, ${run.trigger}, ${run.attempt}, 'running', ${this.runnerId},
              now() + make_interval(secs => ${this.leaseSeconds}),
              ${Object.keys(run.params).length > 0 ? this.sql.json(run.params) : null})
      returning id::text`;
    return row!.id;
  }

  /**
   * Record an outcome and update the job's heartbeat row in one statement. A row the reaper
   * already marked abandoned still gets its real outcome: the run did finish.
   * Returns the job's consecutive failures after this run and before it (alerts fire on the
   * crossing, so exactly one replica sends each), or undefined when nothing was updated.
   */
  async finishRun(id: string, jobName: string, outcome: RunOutcome): Promise<FailureCount | undefined> {
    const failed = FAILURE_STATUSES.includes(outcome.status);
    const succeeded = outcome.status === "succeeded";
    const result = outcome.result === undefined ? null : this.sql.json(outcome.result as never);
    const rows = await this.sql<{ consecutive_failures: number; previous_failures: number | null }[]>`
      with run as (
        update job_runs set status = ${outcome.status}, finished_at = now(), duration_ms = ${Math.round(outcome.durationMs)},
          error = ${outcome.error ?? null}, result = ${result}, lease_until = null
        where id = ${id} and status in ('running', 'abandoned')
        returning job_name
      )
      insert into job_heartbeats as h (name, runner_id, last_heartbeat, last_success_at, consecutive_failures, last_error, last_error_at)
      select ${jobName}, ${this.runnerId}, now(), ${succeeded ? this.sql`now()` : null}, ${failed ? 1 : 0},
        ${failed ? (outcome.error ?? outcome.status) : null}, ${failed ? this.sql`now()` : null}
      from run
      on conflict (name) do update set runner_id = excluded.runner_id, last_heartbeat = now(),
        last_success_at = coalesce(excluded.last_success_at, h.last_success_at),
        consecutive_failures = case when ${succeeded} then 0 when ${failed} then h.consecutive_failures + 1 else h.consecutive_failures end,
        last_error = case when ${succeeded} then null when ${failed} then excluded.last_error else h.last_error end,
        last_error_at = case when ${succeeded} then null when ${failed} then excluded.last_error_at else h.last_error_at end
      -- A subquery in RETURNING reads the statement's snapshot: the value before this update.
      returning consecutive_failures, (select o.consecutive_failures from job_heartbeats o where o.name = ${jobName}) as previous_failures`;
    const row = rows[0];
    return row && { current: row.consecutive_failures, previous: row.previous_failures ?? 0 };
  }

  /** The loop's own heartbeat and this replica's liveness, in one round trip. */
  async heartbeat(info: { hostname: string; pid: number; version: string }): Promise<void> {
    await this.sql`
      with runner as (
        insert into job_runners (runner_id, hostname, pid, version)
        values (${this.runnerId}, ${info.hostname}, ${info.pid}, ${info.version})
        on conflict (runner_id) do update set hostname = excluded.hostname, pid = excluded.pid,
          version = excluded.version, last_seen = now(), stopped_at = null
      )
      insert into job_heartbeats (name, runner_id, last_heartbeat) values (${RUNNER_ROW}, ${this.runnerId}, now())
      on conflict (name) do update set runner_id = excluded.runner_id, last_heartbeat = now()`;
  }

  async markRunnerStopped(): Promise<void> {
    await this.sql`update job_runners set stopped_at = now() where runner_id = ${this.runnerId}`;
  }

  /** Make sure every job has its heartbeat and state rows, so status lists it before its first run. */
  async registerJobs(names: string[]): Promise<Map<string, { firstSeenAt: Date; paused: boolean }>> {
    if (names.length === 0) return new Map();
    await this.sql`
      insert into job_heartbeats (name, runner_id) select json_array_elements_text(${this.sql.json(names as never)}::json), ${this.runnerId}
      on conflict (name) do nothing`;
    const rows = await this.sql<{ job_name: string; first_seen_at: Date; paused: boolean }[]>`
      with ins as (
        insert into job_state (job_name) select json_array_elements_text(${this.sql.json(names as never)}::json) on conflict (job_name) do nothing
        returning job_name, first_seen_at, paused
      )
      select job_name, first_seen_at, paused from ins
      union all
      select job_name, first_seen_at, paused from job_state where job_name in (select json_array_elements_text(${this.sql.json(names as never)}::json))`;
    return new Map(rows.map((row) => [row.job_name, { firstSeenAt: row.first_seen_at, paused: row.paused }]));
  }

  async renewLeases(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.sql`
      update job_runs set lease_until = now() + make_interval(secs => ${this.leaseSeconds})
      where id in (select json_array_elements_text(${this.sql.json(ids as never)}::json)::bigint) and status = 'running'`;
  }

  /**
   * Mark runs whose lease expired as abandoned (their runner died) and count each as a failure
   * of its job. Idempotent and cheap: an index covers running rows.
   */
  async reapAbandoned(): Promise<
    { id: string; job_name: string; runner_id: string; consecutive_failures: number }[]
  > {
    return this.sql`
      with reaped as (
        update job_runs set status = 'abandoned', finished_at = now(),
          duration_ms = (extract(epoch from now() - started_at) * 1000)::int,
          error = 'runner ' || runner_id || ' stopped renewing its lease (presumed dead)', lease_until = null
        where status = 'running' and lease_until < now()
        returning id, job_name, runner_id, error
      ), per_job as (
        select job_name, count(*)::int as n, max(error) as error from reaped group by job_name
      ), beats as (
        insert into job_heartbeats as h (name, runner_id, consecutive_failures, last_error, last_error_at)
        select job_name, ${this.runnerId}, n, error, now() from per_job
        on conflict (name) do update set consecutive_failures = h.consecutive_failures + excluded.consecutive_failures,
          last_error = excluded.last_error, last_error_at = now()
        returning name, consecutive_failures
      )
      select r.id::text, r.job_name, r.runner_id, b.consecutive_failures
      from reaped r join beats b on b.name = r.job_name`;
  }

  async markInterrupted(ids: string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.sql`
      update job_runs set status = 'interrupted', finished_at = now(), lease_until = null, error = ${reason},
        duration_ms = (extract(epoch from now() - started_at) * 1000)::int
      where id in (select json_array_elements_text(${this.sql.json(ids as never)}::json)::bigint) and status = 'running'`;
  }

  async isRunning(jobName: string): Promise<boolean> {
    const [row] = await this.sql<{ running: boolean }[]>`
      select exists (select 1 from job_runs where job_name = ${jobName} and status = 'running') as running`;
    return row!.running;
  }

  /** Ask the live replicas for a run; a repeated idempotency key returns the first request. */
  async requestTrigger(request: {
    jobName: string;
    params: Record<string, string>;
    trigger: RunTrigger;
    requestedBy: string;
    idempotencyKey?: string;
  }): Promise<{ id: string; runId: string | null; duplicate: boolean }> {
    const [row] = await this.sql<{ id: string; run_id: string | null; inserted: boolean }[]>`
      with ins as (
        insert into job_triggers (job_name, params, trigger, requested_by, idempotency_key)
        values (${request.jobName}, ${this.sql.json(request.params)}, ${request.trigger}, ${request.requestedBy}, ${request.idempotencyKey ?? null})
        on conflict (job_name, idempotency_key) where idempotency_key is not null do nothing
        returning id, run_id, true as inserted
      )
      select id::text, run_id::text, inserted from ins
      union all
      select id::text, run_id::text, false from job_triggers
      where job_name = ${request.jobName} and idempotency_key = ${request.idempotencyKey ?? null}
        and not exists (select 1 from ins)
      limit 1`;
    return { id: row!.id, runId: row!.run_id, duplicate: !row!.inserted };
  }

  /** Take pending trigger requests for jobs this replica knows; each goes to exactly one replica. */
  async claimTriggers(jobNames: string[], limit = 100): Promise<TriggerRow[]> {
    if (jobNames.length === 0) return [];
    return this.sql<TriggerRow[]>`
      update job_triggers t set claimed_by = ${this.runnerId}, claimed_at = now()
      from (
        select id from job_triggers where claimed_at is null and job_name in (select json_array_elements_text(${this.sql.json(jobNames as never)}::json))
        order by id for update skip locked limit ${limit}
      ) p
      where t.id = p.id
      returning t.id::text, t.job_name, t.params, t.trigger, t.requested_by`;
  }

  async attachTriggerRun(triggerId: string, runId: string): Promise<void> {
    await this.sql`update job_triggers set run_id = ${runId} where id = ${triggerId}`;
  }

  async setPaused(jobName: string, paused: boolean, by: string): Promise<void> {
    await this.sql`
      insert into job_state (job_name, paused, paused_at, paused_by)
      values (${jobName}, ${paused}, ${paused ? this.sql`now()` : null}, ${paused ? by : null})
      on conflict (job_name) do update set paused = excluded.paused, paused_at = excluded.paused_at, paused_by = excluded.paused_by`;
  }

  /** The columns of a RunRow, as one SQL fragment. */
  private runColumns() {
    return this.sql`id::text, job_name, scheduled_for, trigger, attempt, status, runner_id, started_at,
      finished_at, duration_ms, error, result, params`;
  }

  async history(jobName: string, limit: number): Promise<RunRow[]> {
    return this.sql<RunRow[]>`
      select ${this.runColumns()}
      from job_runs where job_name = ${jobName} order by started_at desc, id desc limit ${limit}`;
  }

  async lastFinishedRun(jobName: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`
      select ${this.runColumns()}
      from job_runs where job_name = ${jobName} and status not in ('running', 'skipped')
      order by finished_at desc nulls last, id desc limit 1`;
    return row;
  }

  /** Heartbeat rows, with pause state and the number of runs going on now. */
  async status(): Promise<(HeartbeatRow & { paused: boolean; running: number })[]> {
    return this.sql`
      select h.name, h.runner_id, h.last_heartbeat, h.last_success_at, h.consecutive_failures, h.last_error, h.last_error_at,
        coalesce(s.paused, false) as paused,
        (select count(*)::int from job_runs r where r.job_name = h.name and r.status = 'running') as running
      from job_heartbeats h left join job_state s on s.job_name = h.name
      order by h.name = ${RUNNER_ROW} desc, h.name`;
  }

  /**
   * An HTTP trigger with an Idempotency-Key: the first request within 24 h inserts its row
   * (already claimed by this replica, which runs it at once); a repeat finds that row.
   */
  async idempotentTrigger(
    jobName: string,
    key: string,
    params: Record<string, string>,
  ): Promise<{ id: string; runId: string | null; duplicate: boolean }> {
    await this.sql`
      delete from job_triggers where job_name = ${jobName} and idempotency_key = ${key}
        and requested_at < now() - interval '24 hours'`;
    const [inserted] = await this.sql<{ id: string }[]>`
      insert into job_triggers (job_name, params, trigger, requested_by, idempotency_key, claimed_by, claimed_at)
      values (${jobName}, ${this.sql.json(params)}, 'http', ${`http@${this.runnerId}`}, ${key}, ${this.runnerId}, now())
      on conflict (job_name, idempotency_key) where idempotency_key is not null do nothing
      returning id::text`;
    if (inserted) return { id: inserted.id, runId: null, duplicate: false };
    const [existing] = await this.sql<{ id: string; run_id: string | null }[]>`
      select id::text, run_id::text from job_triggers where job_name = ${jobName} and idempotency_key = ${key}`;
    return { id: existing!.id, runId: existing!.run_id, duplicate: true };
  }

  async triggerRunId(triggerId: string): Promise<string | null> {
    const [row] = await this.sql<
      { run_id: string | null }[]
    >`select run_id::text from job_triggers where id = ${triggerId}`;
    return row?.run_id ?? null;
  }

  /** Persist a job registered over HTTP; false when a live definition of that name exists. */
  async saveDefinition(name: string, definition: unknown): Promise<boolean> {
    const rows = await this.sql`
      insert into job_definitions (name, definition) values (${name}, ${this.sql.json(definition as never)})
      on conflict (name) do update set definition = excluded.definition, created_at = now(), deleted_at = null
        where job_definitions.deleted_at is not null
      returning name`;
    return rows.length === 1;
  }

  /** Mark a definition deleted, so every replica drops the job at its next loop. */
  async deleteDefinition(name: string): Promise<boolean> {
    const rows = await this
      .sql`update job_definitions set deleted_at = now() where name = ${name} and deleted_at is null returning name`;
    return rows.length === 1;
  }

  async definitions(): Promise<
    { name: string; definition: unknown; created_at: Date; deleted_at: Date | null }[]
  > {
    return this.sql`select name, definition, created_at, deleted_at from job_definitions order by name`;
  }

  /** The newest `perJob` runs of every job, for the status page's bars. */
  async recentRuns(
    perJob: number,
  ): Promise<Pick<RunRow, "job_name" | "status" | "started_at" | "duration_ms">[]> {
    return this.sql`
      select job_name, status, started_at, duration_ms from (
        select job_name, status, started_at, duration_ms,
          row_number() over (partition by job_name order by started_at desc, id desc) as n
        from job_runs
      ) r where n <= ${perJob} order by job_name, started_at`;
  }

  /**
   * Give an Idempotency-Key back when the request that claimed it started no run (409, error),
   * so that the caller's retry is a new request rather than a duplicate of nothing.
   */
  async releaseTrigger(triggerId: string): Promise<void> {
    await this.sql`delete from job_triggers where id = ${triggerId} and run_id is null`;
  }
}
