import type { RunTrigger } from "../types.js";
import { type KnownJobs, knownWaiting, type StoreScope, textList } from "./fragments.js";

/** job_triggers: requests for a run, from the CLI and HTTP, with their idempotency keys. */

export interface TriggerRow {
  id: string;
  job_name: string;
  params: Record<string, string>;
  trigger: RunTrigger;
  requested_by: string | null;
}

export interface NewTrigger {
  jobName: string;
  params: Record<string, string>;
  trigger: RunTrigger;
  requestedBy: string;
  idempotencyKey?: string;
}

/** A trigger request's row, and whether it repeated an earlier request's idempotency key. */
export interface TriggerRequest {
  id: string;
  runId: string | null;
  duplicate: boolean;
  /** A duplicate's: the params the first request was made with. */
  params?: Record<string, string>;
}

export class TriggerStore {
  constructor(private readonly scope: StoreScope) {}

  /** The request of a job with this idempotency key, as a WHERE condition. */
  private byKey(jobName: string, key: string | null) {
    return this.scope.sql`job_name = ${jobName} and idempotency_key = ${key}`;
  }

  /** A second request with a key already used inserts nothing (the unique index decides). */
  private keyTaken() {
    return this.scope
      .sql`on conflict (job_name, idempotency_key) where idempotency_key is not null do nothing`;
  }

  /** Ask the live replicas for a run; a repeated idempotency key returns the first request. */
  async requestTrigger(request: NewTrigger): Promise<TriggerRequest> {
    const { sql } = this.scope;
    const key = request.idempotencyKey ?? null;
    const [row] = await sql<{ id: string; run_id: string | null; inserted: boolean }[]>`
      with ins as (
        insert into job_triggers (job_name, params, trigger, requested_by, idempotency_key)
        values (${request.jobName}, ${sql.json(request.params)}, ${request.trigger}, ${request.requestedBy}, ${key})
        ${this.keyTaken()}
        returning id, run_id, true as inserted
      )
      select id::text, run_id::text, inserted from ins
      union all
      select id::text, run_id::text, false from job_triggers
      where ${this.byKey(request.jobName, key)} and not exists (select 1 from ins)
      limit 1`;
    return { id: row!.id, runId: row!.run_id, duplicate: !row!.inserted };
  }

  /** Take pending trigger requests for jobs this replica knows; each goes to exactly one replica. */
  async claimTriggers(known: KnownJobs, limit = 100): Promise<TriggerRow[]> {
    const { sql, runnerId } = this.scope;
    const jobNames = await knownWaiting(sql, "job_triggers", sql`claimed_at is null`, known);
    if (jobNames.length === 0) return [];
    return sql<TriggerRow[]>`
      update job_triggers t set claimed_by = ${runnerId}, claimed_at = now()
      from (
        select id from job_triggers where claimed_at is null and job_name in (${textList(sql, jobNames)})
        order by id for update skip locked limit ${limit}
      ) p
      where t.id = p.id
      returning t.id::text, t.job_name, t.params, t.trigger, t.requested_by`;
  }

  async attachTriggerRun(triggerId: string, runId: string): Promise<void> {
    await this.scope.sql`update job_triggers set run_id = ${runId} where id = ${triggerId}`;
  }

  /**
   * An HTTP trigger with an Idempotency-Key: the first request within 24 h inserts its row
   * (already claimed by this replica, which runs it at once); a repeat finds that row.
   */
  async idempotentTrigger(
    jobName: string,
    key: string,
    params: Record<string, string>,
  ): Promise<TriggerRequest> {
    const { sql, runnerId } = this.scope;
    await sql`
      delete from job_triggers where ${this.byKey(jobName, key)} and requested_at < now() - interval '24 hours'`;
    const [inserted] = await sql<{ id: string }[]>`
      insert into job_triggers (job_name, params, trigger, requested_by, idempotency_key, claimed_by, claimed_at)
      values (${jobName}, ${sql.json(params)}, 'http', ${`http@${runnerId}`}, ${key}, ${runnerId}, now())
      ${this.keyTaken()}
      returning id::text`;
    if (inserted) return { id: inserted.id, runId: null, duplicate: false };
    const [existing] = await sql<
      { id: string; run_id: string | null; params: Record<string, string> | null }[]
    >`
      select id::text, run_id::text, params from job_triggers where ${this.byKey(jobName, key)}`;
    return { id: existing!.id, runId: existing!.run_id, duplicate: true, params: existing!.params ?? {} };
  }

  async triggerRunId(triggerId: string): Promise<string | null> {
    const [row] = await this.scope.sql<
      { run_id: string | null }[]
    >`select run_id::text from job_triggers where id = ${triggerId}`;
    return row?.run_id ?? null;
  }

  /**
   * Give an Idempotency-Key back when the request that claimed it started no run (409, error),
   * so that the caller's retry is a new request rather than a duplicate of nothing.
   */
  async releaseTrigger(triggerId: string): Promise<void> {
    await this.scope.sql`delete from job_triggers where id = ${triggerId} and run_id is null`;
  }
}
