import type { Sql } from "postgres";

export interface PauseRequest {
  /** Who paused it: the owner shown with the pause. */
  by: string;
  reason: string | null;
  /** When it resumes by itself; null: until someone resumes it. */
  until: Date | null;
}

/** A job's pause as status shows it. */
export interface PauseState {
  paused: boolean;
  paused_by: string | null;
  paused_reason: string | null;
  paused_until: Date | null;
}

/**
 * Pause state in job_state (sql/001, reasons and expiry in sql/006). The claim (store/runs.ts)
 * skips paused jobs; expired pauses are lifted by `resumeExpired`, which the loop calls.
 */
export class PauseStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Pause a job (again: a new reason, owner or expiry replaces the old). With `onlyIfRunning`
   * (auto-pause), a job already paused is left as it is. True when this call paused it.
   */
  async pause(jobName: string, request: PauseRequest, onlyIfRunning = false): Promise<boolean> {
    const { sql } = this;
    const rows = await sql`
      insert into job_state (job_name, paused, paused_at, paused_by, paused_reason, paused_until)
      values (${jobName}, true, now(), ${request.by}, ${request.reason}, ${request.until})
      on conflict (job_name) do update set paused = true, paused_at = now(), paused_by = excluded.paused_by,
        paused_reason = excluded.paused_reason, paused_until = excluded.paused_until
      ${onlyIfRunning ? sql`where not job_state.paused` : sql``}
      returning 1`;
    return rows.count > 0;
  }

  /** Resume a job; true when it was paused. */
  async resume(jobName: string): Promise<boolean> {
    const { sql } = this;
    const rows = await sql`
      update job_state set paused = false, paused_at = null, paused_by = null, paused_reason = null, paused_until = null
      where job_name = ${jobName} and paused returning 1`;
    return rows.count > 0;
  }

  /** Lift every pause whose expiry has passed (by the database's clock); their jobs and reasons. */
  async resumeExpired(): Promise<
    { job_name: string; paused_reason: string | null; paused_by: string | null }[]
  > {
    const { sql } = this;
    return sql`
      update job_state s set paused = false, paused_at = null, paused_by = null, paused_reason = null, paused_until = null
      from (select job_name, paused_by, paused_reason from job_state
            where paused and paused_until <= now() for update skip locked) old
      where s.job_name = old.job_name
      returning old.job_name, old.paused_reason, old.paused_by`;
  }

  async state(jobName: string): Promise<PauseState | undefined> {
    const { sql } = this;
    const [row] = await sql<PauseState[]>`
      select paused, paused_by, paused_reason, paused_until from job_state where job_name = ${jobName}`;
    return row;
  }
}
