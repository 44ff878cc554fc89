import type { Sql } from "postgres";

/**
 * SQL pieces more than one statement uses, so each is written once.
 * Lists travel as one JSON parameter (json_to_recordset, json_array_elements_text): one statement
 * for any number of items, and no dependence on the driver's array type discovery, which a
 * brand-new connection may not have finished.
 */

/** A subquery yielding each item as a row of text: `name in (${textList(sql, names)})`. */
export function textList(sql: Sql, items: readonly string[]) {
  return sql`select json_array_elements_text(${sql.json(items as never)}::json)`;
}

/** Whether this replica has a job of that name (the registry's `has`). */
export type KnownJobs = (name: string) => boolean;

/**
 * The names of `table`'s rows matching `where` that this replica knows. Every loop tick asks
 * whether trigger requests, retries or backfills (and released slots, releases.ts) wait for its
 * jobs; sending every job's name each time (100,000 of them, four times a tick) was most of an
 * idle replica's work.
 * Nearly always this reads an index, finds nothing, and the caller sends nothing.
 */
export async function knownWaiting(
  sql: Sql,
  table: "job_triggers" | "job_retries" | "job_backfills",
  where: ReturnType<Sql>,
  known: KnownJobs,
): Promise<string[]> {
  const rows = await sql<{ job_name: string }[]>`select distinct job_name from ${sql(table)} where ${where}`;
  return rows.map((row) => row.job_name).filter(known);
}

/** A subquery yielding each id as a bigint row: `id in (${idList(sql, ids)})`. */
export function idList(sql: Sql, ids: readonly string[]) {
  return sql`select id::bigint from (${textList(sql, ids)}) as ids(id)`;
}

/** When a lease taken or renewed now runs out. */
export function leaseEnd(sql: Sql, leaseSeconds: number) {
  return sql`now() + make_interval(secs => ${leaseSeconds})`;
}

/** The assignments that end a job_runs row now without an outcome of its own: no lease, duration so far. */
export function endedNow(sql: Sql) {
  return sql`finished_at = now(), lease_until = null, duration_ms = (extract(epoch from now() - started_at) * 1000)::int`;
}

/**
 * A job_runs row's progress as JSON {done, total}, or null when it reported none. `run` is the
 * name the query gives job_runs (an alias such as "r", or the table's own name).
 */
export function progressJson(sql: Sql, run = "job_runs") {
  const r = sql(run);
  return sql`case when ${r}.progress_done is not null
    then json_build_object('done', ${r}.progress_done, 'total', ${r}.progress_total) end`;
}

/** What every table module needs: the pool, which replica this is, and how long its leases last. */
export interface StoreScope {
  readonly sql: Sql;
  readonly runnerId: string;
  readonly leaseSeconds: number;
}
