import { leaseEnd, type StoreScope } from "./fragments.js";

/**
 * job_slots (the slot ledger) and job_runner_spans, and the window of job_runs a slot report reads
 * (docs/contract.md#job_slots). Every query reads one job's slots through an index.
 */

/** The fates kept in job_slots; the others are read from job_runs or derived. */
export type LedgerFate = "paused" | "missed" | "dropped";

/** Consecutive slots of one job with one fate and reason, to record. */
export interface SlotRange {
  jobName: string;
  first: Date;
  last: Date;
  count: number;
  fate: LedgerFate;
  reason: string;
  /** The planned instant before `first`: a row ending there is extended in place. Null: none. */
  previous: Date | null;
}

export interface LedgerRow {
  id: string;
  first_slot: Date;
  last_slot: Date;
  slot_count: number;
  fate: LedgerFate;
  reason: string;
}

/** A slot's run: its first attempt's trigger ('backfill' if any attempt was a backfill's), its latest attempt's status and id. */
export interface SlotRunRow {
  scheduled_for: Date;
  trigger: string;
  status: string;
  error: string | null;
  run_id: string;
  started_at: Date;
}

export interface RunnerSpan {
  started_at: Date;
  live_until: Date;
}

export class SlotStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Record ranges in one statement: each extends the row of its job, fate and reason that ends at
   * its previous planned instant, or becomes a new row. A range some row already covers (another
   * replica recorded those slots) is left out. Returns, per range in order, the slots recorded.
   */
  async record(ranges: readonly SlotRange[]): Promise<number[]> {
    if (ranges.length === 0) return [];
    const { sql, runnerId } = this.scope;
    const input = ranges.map((r, i) => ({
      i,
      job_name: r.jobName,
      first_slot: r.first.toISOString(),
      last_slot: r.last.toISOString(),
      slot_count: r.count,
      fate: r.fate,
      reason: r.reason,
      previous: r.previous?.toISOString() ?? null,
    }));
    const rows = await sql<{ i: number; n: number }[]>`
      with input as (
        select * from json_to_recordset(${sql.json(input as never)}::json)
          as i(i int, job_name text, first_slot timestamptz, last_slot timestamptz, slot_count int,
               fate text, reason text, previous timestamptz)
        -- Covered already with this fate (another replica recorded it): among the few rows of
        -- the fate starting at or before it, one reaches it. Another fate is recorded beside it
        -- (a missed slot later dropped); the reader takes the strongest.
        where not exists (select 1 from (select s.last_slot from job_slots s
          where s.job_name = i.job_name and s.fate = i.fate and s.first_slot <= i.first_slot
          order by s.first_slot desc limit 3) c where c.last_slot >= i.first_slot)
      ), extended as (
        update job_slots s set last_slot = i.last_slot, slot_count = s.slot_count + i.slot_count,
          updated_at = now(), recorded_by = ${runnerId}
        from input i
        where s.job_name = i.job_name and s.last_slot = i.previous and s.fate = i.fate and s.reason = i.reason
        returning i.i, i.slot_count as n
      ), inserted as (
        insert into job_slots (job_name, first_slot, last_slot, slot_count, fate, reason, recorded_by)
        select job_name, first_slot, last_slot, slot_count, fate, reason, ${runnerId} from input i
        where not exists (select 1 from extended e where e.i = i.i)
        returning 1
      )
      select i, n from extended
      union all
      select i.i, i.slot_count from input i where not exists (select 1 from extended e where e.i = i.i)`;
    const recorded = ranges.map(() => 0);
    for (const row of rows) recorded[row.i] = row.n;
    return recorded;
  }

  /**
   * Ledger rows of a job that overlap (from, to], by first slot, at most `limit`, after the row
   * `after` (its first slot and id: rows of several replicas may start at the same slot).
   */
  async ledger(
    jobName: string,
    from: Date,
    to: Date,
    after: { first_slot: Date; id: string } | null,
    limit: number,
  ): Promise<LedgerRow[]> {
    const { sql } = this.scope;
    return sql<LedgerRow[]>`
      select id::text, first_slot, last_slot, slot_count, fate, reason from job_slots
      where job_name = ${jobName} and first_slot <= ${to} and last_slot > ${from}
        ${after ? sql`and (first_slot, id) > (${after.first_slot}, ${after.id}::bigint)` : sql``}
      order by first_slot, id limit ${limit}`;
  }

  /** The first `limit` slots of a job in (after, to] that have a job_runs row (through the slot key index). */
  async runs(jobName: string, after: Date, to: Date, limit: number): Promise<SlotRunRow[]> {
    return this.scope.sql<SlotRunRow[]>`
      select distinct on (r.scheduled_for) r.scheduled_for,
        -- A slot a backfill ran, even as a later attempt after a failed scheduled run, is backfilled.
        case when exists (select 1 from job_runs b where b.job_name = r.job_name
          and b.scheduled_for = r.scheduled_for and b.trigger = 'backfill') then 'backfill' else f.trigger end as trigger,
        r.status, r.error, r.id::text as run_id, f.started_at
      from job_runs r
      join job_runs f on f.job_name = r.job_name and f.scheduled_for = r.scheduled_for and f.attempt = 1
      where r.job_name = ${jobName} and r.scheduled_for > ${after} and r.scheduled_for <= ${to}
      order by r.scheduled_for, r.attempt desc limit ${limit}`;
  }

  /** When replicas that run jobs were up, for spans that overlap (from, to]. */
  async spans(from: Date, to: Date): Promise<RunnerSpan[]> {
    return this.scope.sql<RunnerSpan[]>`
      select started_at, live_until from job_runner_spans
      where live_until > ${from} and started_at <= ${to} order by started_at`;
  }

  /** This process is up (a loop heartbeat): its span, keyed by when it started, lasts a lease more. */
  async cover(processStartedAt: Date): Promise<void> {
    const { sql, runnerId, leaseSeconds } = this.scope;
    await sql`
      insert into job_runner_spans (runner_id, started_at, live_until)
      values (${runnerId}, ${processStartedAt}, ${leaseEnd(sql, leaseSeconds)})
      on conflict (runner_id, started_at) do update set live_until = excluded.live_until`;
  }

  /** This replica stops: its spans end now. */
  async endSpans(): Promise<void> {
    const { sql, runnerId } = this.scope;
    await sql`update job_runner_spans set live_until = now() where runner_id = ${runnerId} and live_until > now()`;
  }

  /** When the job was first seen by a replica (slots before it were never planned), or null. */
  /** The earliest slot of a job in (from, to] that has a run (a backfill may reach before first_seen_at). */
  async firstRun(jobName: string, from: Date, to: Date): Promise<Date | null> {
    const [row] = await this.scope.sql<{ first: Date | null }[]>`
      select min(scheduled_for) as first from job_runs
      where job_name = ${jobName} and scheduled_for > ${from} and scheduled_for <= ${to}`;
    return row?.first ?? null;
  }

  async firstSeen(jobName: string): Promise<Date | null> {
    const [row] = await this.scope.sql<{ first_seen_at: Date }[]>`
      select first_seen_at from job_state where job_name = ${jobName}`;
    return row?.first_seen_at ?? null;
  }
}
