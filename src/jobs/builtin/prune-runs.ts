import type { Sql } from "postgres";

/**
 * Delete runs older than `days`, a batch at a time, so a large backlog never holds one long lock
 * or one huge transaction. Running rows are never deleted. Trigger requests (job_triggers) older
 * than `days` go the same way, taken or not: a request no replica took in that long never will be,
 * and an Idempotency-Key is only honoured for 24 h. Audit events (job_audit) older than `days` go
 * too; a run's output (job_run_output) and a retry still waiting for it (job_retries) are deleted
 * with its row.
 */
export async function pruneRuns(
  sql: Sql,
  days: number,
  signal: AbortSignal,
  batchSize = 5000,
): Promise<{ deleted: number; batches: number; triggers: number; audit: number }> {
  let deleted = 0;
  let batches = 0;
  for (;;) {
    signal.throwIfAborted();
    const rows = await sql`
      delete from job_runs where id in (
        select id from job_runs where started_at < now() - make_interval(days => ${days}) and status <> 'running'
        order by started_at limit ${batchSize})
      returning 1`;
    batches++;
    deleted += rows.count;
    if (rows.count < batchSize) break;
  }
  let triggers = 0;
  for (;;) {
    signal.throwIfAborted();
    const rows = await sql`
      delete from job_triggers where id in (
        select id from job_triggers where requested_at < now() - make_interval(days => ${days})
        order by id limit ${batchSize})
      returning 1`;
    triggers += rows.count;
    if (rows.count < batchSize) break;
  }
  // The audit trail (job_audit) is kept as long as the runs; a run's output goes with its row.
  let audit = 0;
  for (;;) {
    signal.throwIfAborted();
    const rows = await sql`
      delete from job_audit where id in (
        select id from job_audit where at < now() - make_interval(days => ${days}) order by id limit ${batchSize})
      returning 1`;
    audit += rows.count;
    if (rows.count < batchSize) return { deleted, batches, triggers, audit };
  }
}
