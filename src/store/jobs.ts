import { RUNNER_ROW } from "../types.js";
import { progressJson, type StoreScope, textList } from "./fragments.js";
import type { RunProgress } from "./runs.js";

/** job_heartbeats, job_state and job_runners: each job's health and controls, each replica's liveness. */

export interface HeartbeatRow {
  name: string;
  runner_id: string;
  last_heartbeat: Date;
  last_success_at: Date | null;
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: Date | null;
}

/** The loop's own heartbeat row (one constant, in types.ts). */
export { RUNNER_ROW };

export class JobStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * This replica's liveness (job_runners) and, when it runs jobs, the shared `jobs-runner` row, in
   * one round trip. A replica with JOBS_ENABLED=false must not write `jobs-runner`: the runbook's
   * gate reads that row to know whether some replica is running jobs.
   */
  async heartbeat(info: { hostname: string; pid: number; version: string }, runsJobs = true): Promise<void> {
    const { sql, runnerId } = this.scope;
    await sql`
      with runner as (
        insert into job_runners (runner_id, hostname, pid, version)
        values (${runnerId}, ${info.hostname}, ${info.pid}, ${info.version})
        on conflict (runner_id) do update set hostname = excluded.hostname, pid = excluded.pid,
          version = excluded.version, last_seen = now(), stopped_at = null
      )
      insert into job_heartbeats (name, runner_id, last_heartbeat)
      select ${RUNNER_ROW}, ${runnerId}, now() where ${runsJobs}
      on conflict (name) do update set runner_id = excluded.runner_id, last_heartbeat = now()`;
  }

  /** Every heartbeat row's age by the database's own clock (not this host's, which may step). */
  async heartbeatAges(): Promise<{ name: string; age_seconds: number }[]> {
    return this.scope.sql`
      select name, extract(epoch from now() - last_heartbeat)::float8 as age_seconds from job_heartbeats`;
  }

  /** The shared `jobs-runner` row: who wrote it last, and its age by the database's own clock. */
  async runnerHeartbeat(): Promise<{ runner_id: string; age_seconds: number } | undefined> {
    const [row] = await this.scope.sql<{ runner_id: string; age_seconds: number }[]>`
      select runner_id, extract(epoch from now() - last_heartbeat)::float8 as age_seconds
      from job_heartbeats where name = ${RUNNER_ROW}`;
    return row;
  }

  async markRunnerStopped(): Promise<void> {
    await this.scope.sql`update job_runners set stopped_at = now() where runner_id = ${this.scope.runnerId}`;
  }

  /** Make sure every job has its heartbeat and state rows, so status lists it before its first run. */
  async registerJobs(names: string[]): Promise<Map<string, { firstSeenAt: Date; paused: boolean }>> {
    if (names.length === 0) return new Map();
    const { sql, runnerId } = this.scope;
    await sql`
      insert into job_heartbeats (name, runner_id) select name, ${runnerId} from (${textList(sql, names)}) as n(name)
      on conflict (name) do nothing`;
    const rows = await sql<{ job_name: string; first_seen_at: Date; paused: boolean }[]>`
      with ins as (
        insert into job_state (job_name) ${textList(sql, names)} on conflict (job_name) do nothing
        returning job_name, first_seen_at, paused
      )
      select job_name, first_seen_at, paused from ins
      union all
      select job_name, first_seen_at, paused from job_state where job_name in (${textList(sql, names)})`;
    return new Map(rows.map((row) => [row.job_name, { firstSeenAt: row.first_seen_at, paused: row.paused }]));
  }

  async setPaused(jobName: string, paused: boolean, by: string): Promise<void> {
    const { sql } = this.scope;
    await sql`
      insert into job_state (job_name, paused, paused_at, paused_by)
      values (${jobName}, ${paused}, ${paused ? sql`now()` : null}, ${paused ? by : null})
      on conflict (job_name) do update set paused = excluded.paused, paused_at = excluded.paused_at, paused_by = excluded.paused_by`;
  }

  /**
   * Heartbeat rows, with pause state, the number of runs going on now and the newest one's
   * progress: every job's, or one job's (the console's job page).
   */
  async status(only?: string): Promise<
    (HeartbeatRow & {
      paused: boolean;
      paused_by: string | null;
      paused_reason: string | null;
      paused_until: Date | null;
      first_seen_at: Date | null;
      running: number;
      progress: RunProgress | null;
    })[]
  > {
    const { sql } = this.scope;
    const one = only === undefined ? sql`` : sql`and job_name = ${only}`;
    // The running rows (the partial index on status = 'running') in one pass, joined: a
    // subquery per job cost twice as much at 1,000 jobs (the console's jobs page reads this).
    return sql`
      with running as (
        select job_name, count(*)::int as running,
          (array_agg(${progressJson(sql)} order by started_at desc) filter (where progress_done is not null))[1] as progress
        from job_runs where status = 'running' ${one} group by job_name
      )
      select h.name, h.runner_id, h.last_heartbeat, h.last_success_at, h.consecutive_failures, h.last_error, h.last_error_at,
        coalesce(s.paused, false) as paused, s.paused_by, s.paused_reason, s.paused_until, s.first_seen_at,
        coalesce(r.running, 0) as running, r.progress
      from job_heartbeats h left join job_state s on s.job_name = h.name left join running r on r.job_name = h.name
      ${only === undefined ? sql`` : sql`where h.name = ${only}`}
      order by h.name = ${RUNNER_ROW} desc, h.name`;
  }
}
