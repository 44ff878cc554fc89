/**
 * Overload and recovery (the scale-out issue's item 3): one Runner offered more per-second jobs
 * than this machine's database can record (`jobs`, for `overloadSeconds`), then the load drops:
 * every job from `keep` on is cancelled, and the rest run for `recoverSeconds`. Reports the peak
 * RSS (bounded?), what became of the slots (ran, missed at capacity, missed or dropped as
 * overloaded), and how soon after the drop every second was complete and on time again.
 */
import { migratedPool, silentRunner } from "./bench-runner.js";
import { peakRssMb } from "./lib.js";

interface Args {
  jobs: number;
  keep: number;
  overloadSeconds: number;
  recoverSeconds: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
/** A second is on time when its last kept job started within this much of its instant (the fan-out target's p50). */
const ON_TIME_MS = 150;

/** Per instant: starts of the kept jobs, and the delay of the last of them. */
const seconds = new Map<number, { starts: number; last: number }>();
const now = () => performance.timeOrigin + performance.now();
function record(instant: number, index: number) {
  if (index >= args.keep) return;
  const second = seconds.get(instant) ?? { starts: 0, last: 0 };
  second.starts++;
  second.last = Math.max(second.last, now() - instant);
  seconds.set(instant, second);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  const runner = await silentRunner(sql, args.schema, {
    JOB_RUNNER_ID: "bench",
    JOB_LOOP_INTERVAL_SECONDS: "5",
  });
  for (let i = 0; i < args.jobs; i++)
    runner.registerJob({
      name: `load-${i}`,
      schedule: "* * * * * *",
      catchUp: "none",
      overlap: "allow",
      run: (ctx) => record(ctx.scheduledFor!.getTime(), i),
    });
  await runner.start();
  const started = Date.now();
  await sleep(args.overloadSeconds * 1000);
  // The load drops: cancelled jobs are no longer scheduled (their runs going on are aborted).
  const droppedAt = Date.now();
  for (let i = args.keep; i < args.jobs; i++) runner.cancelJob(`load-${i}`);
  await sleep(args.recoverSeconds * 1000);
  await runner.stop();
  const rssMb = peakRssMb();

  // Seconds after the drop (the first whole one on), in order: recovered from the first second
  // from which every later one is complete and on time.
  const after = [...seconds.entries()]
    .filter(
      ([instant]) => instant > droppedAt + 1000 && instant < droppedAt + args.recoverSeconds * 1000 - 1000,
    )
    .sort((a, b) => a[0] - b[0]);
  const good = after.map(([, s]) => s.starts === args.keep && s.last <= ON_TIME_MS);
  const firstGood = good.findIndex((_, i) => good.slice(i).every(Boolean));
  const recoveredAt = firstGood >= 0 ? after[firstGood]![0] : undefined;
  const [fates] = await sql<{ ran: number; at_capacity: number; rows: number; slots: number }[]>`
    select count(*) filter (where status <> 'skipped')::int as ran,
      count(*) filter (where status = 'skipped' and error like 'missed: at capacity%')::int as at_capacity,
      count(*)::int as rows, count(distinct (job_name, scheduled_for))::int as slots
    from job_runs`;
  const [ledger] = await sql<{ overloaded: number; both: number }[]>`
    select coalesce(sum(slot_count), 0)::int as overloaded,
      (select count(*) from job_slots s join job_runs r
        on r.job_name = s.job_name and r.scheduled_for between s.first_slot and s.last_slot)::int as both
    from job_slots where reason like '%overloaded%'`;
  console.log(
    JSON.stringify({
      rssMb,
      ran: fates!.ran,
      atCapacity: fates!.at_capacity,
      overloaded: ledger!.overloaded,
      inBoth: ledger!.both,
      rows: fates!.rows,
      slots: fates!.slots,
      secondsAfterDrop: after.length,
      recoverySeconds: recoveredAt === undefined ? undefined : (recoveredAt - droppedAt) / 1000,
      lastAfterRecovery: after.slice(Math.max(0, firstGood)).map(([, s]) => s.last),
      runningSeconds: (droppedAt - started) / 1000,
    }),
  );
  await sql.end();
  process.exit(0);
}
void main();
