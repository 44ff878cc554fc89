/**
 * Fire delay of scheduled handlers: one job or a fan-out of many due at the same second.
 * mode "runner": runner with the durable claim; "croner": one croner Cron per job (baseline);
 * "timeout": a bare setTimeout to the next second (baseline, one job only).
 */
import { migratedPool, silentRunner } from "./bench-runner.js";
import { Cron } from "croner";
import { peakRssMb } from "./lib.js";

interface Args {
  mode: "runner" | "croner" | "timeout";
  jobs: number;
  /**
   * false: every job every second, `fires` of them, the first (mid start-up) not counted.
   * true: one burst, every job due at one second chosen ahead (start-up takes a while with
   * 10,000 jobs), then not again for a minute, so one burst's bookkeeping never overlaps the next.
   */
  burst: boolean;
  fires: number;
  url?: string;
  schema?: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
const leadSeconds = 2 + Math.ceil(args.jobs / 2500);
const schedule = args.burst ? `${(new Date().getUTCSeconds() + leadSeconds) % 60} * * * * *` : "* * * * * *";
const fireCount = args.burst ? 1 : args.fires;

/** Per fire: [delay of the first start, delay of the last start] in ms, and whether every job fired. */
const fires = new Map<number, { starts: number; first: number; last: number }>();
/** Wall-clock time with sub-millisecond resolution (Date.now() has whole milliseconds). */
const now = () => performance.timeOrigin + performance.now();

function record(instant: number) {
  const delay = now() - instant;
  const fire = fires.get(instant) ?? { starts: 0, first: delay, last: delay };
  fire.starts++;
  fire.first = Math.min(fire.first, delay);
  fire.last = Math.max(fire.last, delay);
  fires.set(instant, fire);
}
const done = () =>
  fires.size > fireCount ||
  (fires.size === fireCount && [...fires.values()].every((f) => f.starts === args.jobs));

async function main() {
  let stop = async () => {};
  let recorded: { recorded: number; slots: number; unfinished: number } | undefined;
  if (args.mode === "timeout") {
    let n = 0;
    const arm = () => {
      const target = Math.ceil((Date.now() + 1) / 1000) * 1000;
      setTimeout(() => {
        record(target);
        if (++n < fireCount) arm();
      }, target - Date.now());
    };
    arm();
  } else if (args.mode === "croner") {
    // croner's currentRun() is when it triggered, not the instant: a burst's instant is known
    // ahead, and a per-second fire belongs to the second it started in.
    const burstAt = new Cron(schedule, { paused: true }).nextRun()!.getTime();
    const instant = () => (args.burst ? burstAt : Math.floor(Date.now() / 1000) * 1000);
    const crons = Array.from({ length: args.jobs }, () => new Cron(schedule, () => record(instant())));
    stop = async () => {
      for (const cron of crons) cron.stop();
    };
  } else {
    const sql = await migratedPool(args.url!, args.schema!);
    const runner = await silentRunner(sql, args.schema!, {
      JOB_RUNNER_ID: "bench",
      JOB_LOOP_INTERVAL_SECONDS: "60",
    });
    for (let i = 0; i < args.jobs; i++) {
      runner.registerJob({
        name: `fire-${i}`,
        schedule,
        catchUp: "none",
        overlap: "allow",
        run: (ctx) => record(ctx.scheduledFor!.getTime()),
      });
    }
    await runner.start();
    stop = async () => {
      await runner.stop();
      // Exactly once, from the database: every slot of the measured seconds recorded once.
      const [row] = await sql<{ recorded: number; slots: number; unfinished: number }[]>`
        select count(*)::int as recorded, count(distinct (job_name, scheduled_for))::int as slots,
          count(*) filter (where status <> 'succeeded')::int as unfinished from job_runs`;
      recorded = row!;
      await sql.end();
    };
  }
  // A burst whose start-up overran the lead fires a minute later: wait for it rather than lose it.
  const deadline = Date.now() + (args.burst ? leadSeconds + 65 : fireCount + 5) * 1000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await stop();
  // After the stop: every run's outcome is written, so the peak includes the burst's bookkeeping.
  const rss = peakRssMb();
  // Every second's first fire may land mid-startup: measure the ones after it.
  const measured = [...fires.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(args.mode === "timeout" || args.burst ? 0 : 1);
  const complete = measured.every(([, f]) => f.starts === args.jobs);
  console.log(
    JSON.stringify({
      first: measured.map(([, f]) => f.first),
      last: measured.map(([, f]) => f.last),
      complete,
      rssMb: rss,
      starts: [...fires.values()].reduce((n, f) => n + f.starts, 0),
      recorded,
    }),
  );
  process.exit(0);
}
void main();
