import type { Sql } from "postgres";
import type { RunStatus, RunTrigger } from "../types.js";
import { textList } from "./fragments.js";

/**
 * The console's reads of job_runs (src/http/console/). Every one is an index scan that stops at
 * the page's size (sql/010_console_indexes.sql): a run strip per job through a LATERAL, a job's
 * history paged by keyset (never OFFSET), one run and the attempts of its slot by key.
 */

/** A cell of a job's run strip. */
export interface StripRun {
  id: string;
  job_name: string;
  status: RunStatus;
  started_at: Date;
  duration_ms: number | null;
  error: string | null;
}

/** A row of a job's history. */
export interface HistoryRun extends StripRun {
  trigger: RunTrigger;
  attempt: number;
  runner_id: string;
}

/** Everything the run page shows about one run. */
export interface RunDetail extends HistoryRun {
  scheduled_for: Date | null;
  claimed_at: Date | null;
  finished_at: Date | null;
  error_stack: string | null;
  result: unknown;
  params: Record<string, string> | null;
  progress_done: number | null;
  progress_total: number | null;
}

export interface HistoryQuery {
  /** Only runs with this status. */
  status?: RunStatus;
  /** Runs older than this run (the "older" link's cursor): its (started_at, id), exactly. */
  before?: string;
  limit: number;
}

export class ConsoleStore {
  constructor(private readonly sql: Sql) {}

  /** The newest `perJob` runs of each job named, oldest first within a job. */
  async strips(names: readonly string[], perJob: number): Promise<StripRun[]> {
    if (names.length === 0) return [];
    const { sql } = this;
    return sql<StripRun[]>`
      select r.id::text as id, r.job_name, r.status, r.started_at, r.duration_ms, r.error
      from (${textList(sql, names)}) as j(name)
      cross join lateral (
        select id, job_name, status, started_at, duration_ms, left(error, 300) as error from job_runs
        where job_name = j.name order by started_at desc, id desc limit ${perJob}
      ) r
      order by r.job_name, r.started_at, r.id`;
  }

  /**
   * A page of a job's history, newest first. The cursor is a run id; the page continues below
   * that run's own (started_at, id), read from its row, so no time is rounded on the way.
   */
  async history(jobName: string, query: HistoryQuery): Promise<HistoryRun[]> {
    const { sql } = this;
    const status = query.status === undefined ? sql`` : sql`and status = ${query.status}`;
    const before =
      query.before === undefined
        ? sql``
        : sql`and (started_at, id) < (select c.started_at, c.id from job_runs c where c.id = ${query.before})`;
    return sql<HistoryRun[]>`
      select id::text as id, job_name, status, trigger, attempt, runner_id, started_at, duration_ms,
        left(error, 300) as error
      from job_runs where job_name = ${jobName} ${status} ${before}
      order by started_at desc, id desc limit ${query.limit}`;
  }

  async run(id: string): Promise<RunDetail | undefined> {
    const [row] = await this.sql<RunDetail[]>`
      select id::text as id, job_name, status, trigger, attempt, runner_id, scheduled_for, claimed_at,
        started_at, finished_at, duration_ms, error, error_stack, result, params, progress_done, progress_total
      from job_runs where id = ${id}`;
    return row;
  }

  /** Every attempt of a slot (the unique slot key's index), first attempt first. */
  async attempts(jobName: string, scheduledFor: Date): Promise<HistoryRun[]> {
    return this.sql<HistoryRun[]>`
      select id::text as id, job_name, status, trigger, attempt, runner_id, started_at, duration_ms,
        left(error, 300) as error
      from job_runs where job_name = ${jobName} and scheduled_for = ${scheduledFor}
      order by attempt`;
  }
}
