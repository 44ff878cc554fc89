import type { Sql } from "postgres";

/**
 * Delete runs older than `days`, a batch at a time, so a large backlog never holds one long lock
 * or one huge transaction. Running rows are never deleted. Trigger requests (job_triggers) older
 * than `days` go the same way, taken or not: a request no replica took in that long never will be,
 * and an Idempotency-Key is only honoured for 24 h. Audit events (job_audit), slot ledger ranges
 * (job_slots) that ended and replica spans (job_runner_spans) that ended before `days` go too, so
 * `runner explain` reads as far back as the runs; a run's output (job_run_output) and a retry still
 * waiting for it (job_retries) are deleted with its row. Backfill requests (job_backfills) that
 * finished before `days` go as well; an open one is never deleted, however old: daemons still work on it.
 */
export async function pruneRuns(
  sql: Sql,
  days: number,
  signal: AbortSignal,
  batchSize = 5000,
): Promise<{
  deleted: number;
  batches: number;
  triggers: number;
  audit: number;
  slots: number;
  backfills: number;
}> {
  const cutoff = () => sql`now() - make_interval(days => ${days})`;
  /** Runs `remove` (one batch) until a batch deletes fewer than batchSize rows. */
  const inBatches = async (remove: () => Promise<{ count: number }>) => {
    let rows = 0;
    let batches = 0;
    for (;;) {
      signal.throwIfAborted();
      const { count } = await remove();
      batches++;
      rows += count;
      if (count < batchSize) return { rows, batches };
    }
  };
  const runs = await inBatches(
    () => sql`
      delete from job_runs where id in (
        select id from job_runs where started_at < ${cutoff()} and status <> 'running'
        order by started_at limit ${batchSize})`,
  );
  /** Rows of `table` whose `column` is older than the cutoff, oldest ids first. */
  const olderThanCutoff = (table: string, column: string) =>
    inBatches(
      () => sql`
        delete from ${sql(table)} where id in (
          select id from ${sql(table)} where ${sql(column)} < ${cutoff()} order by id limit ${batchSize})`,
    );
  const triggers = await olderThanCutoff("job_triggers", "requested_at");
  const audit = await olderThanCutoff("job_audit", "at");
  const slots = await olderThanCutoff("job_slots", "last_slot");
  // finished_at is null while open, and null < cutoff is not true: open backfills stay.
  const backfills = await olderThanCutoff("job_backfills", "finished_at");
  await inBatches(
    () => sql`
      delete from job_runner_spans where (runner_id, started_at) in (
        select runner_id, started_at from job_runner_spans where live_until < ${cutoff()} limit ${batchSize})`,
  );
  return {
    deleted: runs.rows,
    batches: runs.batches,
    triggers: triggers.rows,
    audit: audit.rows,
    slots: slots.rows,
    backfills: backfills.rows,
  };
}
