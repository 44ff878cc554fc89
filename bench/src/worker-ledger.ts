/**
 * The slot ledger's cost beside job_runs': per-second no-op jobs run for a measured window, first
 * running (every slot a job_runs row, the ledger untouched), then paused (no run rows, every slot a
 * paused ledger slot). Rows written per second and bytes per second of each table, from the
 * table statistics and sizes before and after the window.
 */
import type { Sql } from "postgres";
import { migratedPool, silentDaemon } from "./bench-runner.js";

interface Args {
  jobs: number;
  seconds: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Snapshot {
  runsWrites: number;
  slotsWrites: number;
  runsBytes: number;
  slotsBytes: number;
  slotsRows: number;
  slots: number;
}

async function snapshot(sql: Sql): Promise<Snapshot> {
  // Backends flush their table statistics at most once a second.
  await sleep(1100);
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql<Snapshot[]>`
    select
      (select n_tup_ins + n_tup_upd from pg_stat_user_tables where relid = 'job_runs'::regclass)::float8 as "runsWrites",
      (select n_tup_ins + n_tup_upd from pg_stat_user_tables where relid = 'job_slots'::regclass)::float8 as "slotsWrites",
      pg_total_relation_size('job_runs')::float8 as "runsBytes",
      pg_total_relation_size('job_slots')::float8 as "slotsBytes",
      (select count(*) from job_slots)::float8 as "slotsRows",
      (select coalesce(sum(slot_count), 0) from job_slots)::float8 as slots`;
  return row!;
}

function rates(before: Snapshot, after: Snapshot, seconds: number) {
  return {
    runsWritesPerSecond: (after.runsWrites - before.runsWrites) / seconds,
    slotsWritesPerSecond: (after.slotsWrites - before.slotsWrites) / seconds,
    runsBytesPerSecond: (after.runsBytes - before.runsBytes) / seconds,
    slotsBytesPerSecond: (after.slotsBytes - before.slotsBytes) / seconds,
    slotsBytes: after.slotsBytes,
    slotsRows: after.slotsRows,
    slotsPerSecond: (after.slots - before.slots) / seconds,
  };
}

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  const daemon = await silentDaemon(sql, args.schema, {
    JOB_RUNNER_ID: "bench",
    JOB_LOOP_INTERVAL_SECONDS: "5",
  });
  const names = Array.from({ length: args.jobs }, (_, i) => `tick-${i}`);
  for (const name of names)
    daemon.registerJob({ name, schedule: "* * * * * *", overlap: "allow", catchUp: "none", run: () => {} });
  await daemon.start();
  // Past the start, and past a first ledger write (every 5 s) once paused.
  const settle = Math.min(6000, args.seconds * 1000);
  await sleep(settle);
  const running0 = await snapshot(sql);
  await sleep(args.seconds * 1000);
  const running1 = await snapshot(sql);
  await sql`update job_state set paused = true, paused_by = 'bench', paused_at = now()`;
  await sleep(settle);
  const paused0 = await snapshot(sql);
  await sleep(args.seconds * 1000);
  const paused1 = await snapshot(sql);
  await daemon.stop();
  await sql.end();
  // Each window is the sleep plus the snapshot's own 1.1 s wait.
  const window = args.seconds + 1.1;
  console.log(
    JSON.stringify({ running: rates(running0, running1, window), paused: rates(paused0, paused1, window) }),
  );
  process.exit(0);
}
void main();
