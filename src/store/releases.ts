import { idList, type KnownJobs, type StoreScope, textList } from "./fragments.js";

/**
 * job_released_slots: slots a stopping replica had claimed ahead of their instant and gives back
 * (docs/exactly-once.md#sigterm-or-sigint), until another replica takes them.
 */

export interface ReleasedSlot {
  job_name: string;
  scheduled_for: Date;
}

/** Released slots of jobs no replica took are kept this long (the longest misfire grace). */
const KEEP_DAYS = 31;

export class ReleaseStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Give back claims this replica holds whose handler never started: delete their rows (first
   * attempts of a slot, still running, ours) and list the slots as released, in one statement.
   * Returns the slots released.
   */
  async releaseClaims(ids: string[]): Promise<ReleasedSlot[]> {
    if (ids.length === 0) return [];
    const { sql, runnerId } = this.scope;
    return sql<ReleasedSlot[]>`
      with gone as (
        delete from job_runs
        where id in (${idList(sql, ids)}) and status = 'running' and runner_id = ${runnerId}
          and scheduled_for is not null and attempt = 1
        returning job_name, scheduled_for
      )
      insert into job_released_slots (job_name, scheduled_for, released_by)
      select job_name, scheduled_for, ${runnerId} from gone
      on conflict (job_name, scheduled_for) do nothing
      returning job_name, scheduled_for`;
  }

  /**
   * Take the released slots of these jobs (each by exactly one replica: SKIP LOCKED), at most
   * `limit`. Released slots no replica took for KEEP_DAYS are dropped on the way.
   */
  async takeReleased(known: KnownJobs, limit = 1000): Promise<ReleasedSlot[]> {
    const { sql } = this.scope;
    // One look, usually at an empty table: which jobs have released slots, and whether any is stale.
    const waiting = await sql<{ job_name: string; stale: boolean }[]>`
      select job_name, bool_or(released_at < now() - make_interval(days => ${KEEP_DAYS})) as stale
      from job_released_slots group by job_name`;
    const jobNames = waiting.flatMap((row) => (known(row.job_name) ? [row.job_name] : []));
    if (jobNames.length === 0 && !waiting.some((row) => row.stale)) return [];
    const rows = await sql<ReleasedSlot[]>`
      delete from job_released_slots r using (
        select job_name, scheduled_for from job_released_slots
        where job_name in (${textList(sql, jobNames)})
           or released_at < now() - make_interval(days => ${KEEP_DAYS})
        order by scheduled_for for update skip locked limit ${limit}
      ) t
      where r.job_name = t.job_name and r.scheduled_for = t.scheduled_for
      returning r.job_name, r.scheduled_for`;
    // Stale rows of other jobs are dropped; those of our jobs are planned by policy (grace).
    return rows.filter((row) => known(row.job_name));
  }
}
