import { leaseEnd, type StoreScope, textList } from "./fragments.js";

/**
 * job_catalog: the jobs each replica runs, published by the replica, so management commands know
 * jobs that only a daemon's --jobs or JOBS_FILE defines, and which live replicas run them.
 */

/** What a replica publishes of one job. */
export interface PublishedJob {
  name: string;
  schedule: string;
  timezone: string;
  source: string;
  enabled: boolean;
}

/** One job as the catalog knows it, over every replica that published it. */
export interface CatalogEntry extends PublishedJob {
  /** The live replicas that run it (a replica is live until its lease time past its last tick, unless it stopped). */
  replicas: string[];
  /** The newest tick of any replica that published it. */
  last_seen: Date;
  /** The shortest --interval of the live replicas that run it; null when none is live. */
  interval_seconds: number | null;
}

/** Rows of replicas not seen for this long are dropped when a replica publishes a change. */
const FORGET_AFTER = "7 days";

export class CatalogStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Replace this replica's published jobs with `jobs`, in one statement: its rows of other jobs go,
   * and the rows of replicas gone for a week are dropped on the way.
   */
  async publish(jobs: readonly PublishedJob[], intervalSeconds: number): Promise<void> {
    const { sql, runnerId, leaseSeconds } = this.scope;
    const names = jobs.map((job) => job.name);
    await sql`
      with gone as (
        delete from job_catalog where runner_id = ${runnerId}
          and job_name not in (${textList(sql, names)})
      ), forgotten as (
        delete from job_catalog where runner_id <> ${runnerId} and last_seen < now() - ${FORGET_AFTER}::interval
      )
      insert into job_catalog (runner_id, job_name, schedule, timezone, source, enabled, interval_seconds, live_until)
      select ${runnerId}, j.name, j.schedule, j.timezone, j.source, j.enabled, ${intervalSeconds}, ${leaseEnd(sql, leaseSeconds)}
      from json_to_recordset(${sql.json(jobs as never)}::json)
        as j(name text, schedule text, timezone text, source text, enabled boolean)
      on conflict (runner_id, job_name) do update set schedule = excluded.schedule, timezone = excluded.timezone,
        source = excluded.source, enabled = excluded.enabled, interval_seconds = excluded.interval_seconds,
        published_at = now(), last_seen = now(), live_until = excluded.live_until`;
  }

  /** This replica is still there and its jobs have not changed: one update. Returns its row count. */
  async touch(): Promise<number> {
    const { sql, runnerId, leaseSeconds } = this.scope;
    const result = await sql`
      update job_catalog set last_seen = now(), live_until = ${leaseEnd(sql, leaseSeconds)}
      where runner_id = ${runnerId}`;
    return result.count;
  }

  /** Every published job, newest definition first when replicas disagree; sorted by name. */
  async entries(): Promise<CatalogEntry[]> {
    const { sql } = this.scope;
    return sql<CatalogEntry[]>`
      with rows as (
        select c.*, (c.live_until > now() and r.stopped_at is null) as live
        from job_catalog c left join job_runners r on r.runner_id = c.runner_id
      )
      select job_name as name,
        (array_agg(schedule order by last_seen desc))[1] as schedule,
        (array_agg(timezone order by last_seen desc))[1] as timezone,
        (array_agg(source order by last_seen desc))[1] as source,
        (array_agg(enabled order by last_seen desc))[1] as enabled,
        coalesce(json_agg(runner_id order by runner_id) filter (where live), '[]'::json) as replicas,
        max(last_seen) as last_seen,
        min(interval_seconds) filter (where live) as interval_seconds
      from rows group by job_name order by job_name`;
  }
}
