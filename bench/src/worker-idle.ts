/**
 * Idle cost: many jobs on daily schedules with distinct expressions, loop at 60 s, nothing due.
 * CPU over the idle window (share of one core) and RSS at its end. mode "empty": a Node process
 * doing nothing, the baseline. startMs: registering every job and starting (connect, migrate,
 * register the jobs' rows, arm the scheduler).
 */
import { migratedPool, silentRunner } from "./bench-runner.js";
import { rssMb } from "./lib.js";

interface Args {
  mode: "runner" | "empty";
  jobs: number;
  seconds: number;
  /** Wait before measuring, so start-up garbage is gone. */
  settleMs: number;
  url?: string;
  schema?: string;
}
const args = JSON.parse(process.argv[2]!) as Args;

async function main() {
  let stop = async () => {};
  let startMs = 0;
  if (args.mode === "runner") {
    const began = performance.now();
    // Imported here, so the "empty" baseline process loads nothing of runner's.
    const sql = await migratedPool(args.url!, args.schema!);
    const runner = await silentRunner(sql, args.schema!, {
      JOB_RUNNER_ID: "idle",
      JOB_LOOP_INTERVAL_SECONDS: "60",
    });
    // Distinct daily expressions, none due in the next hours: minute and hour spread away from now.
    const hour = (new Date().getUTCHours() + 6) % 24;
    for (let i = 0; i < args.jobs; i++) {
      const h = (hour + (Math.floor(i / 60) % 12)) % 24;
      runner.registerJob({
        name: `daily-${i}`,
        schedule: `${i % 60} ${h} ${1 + (Math.floor(i / 720) % 28)} * *`,
        catchUp: "none",
        run: () => {},
      });
    }
    await runner.start();
    startMs = performance.now() - began;
    stop = async () => {
      await runner.stop();
      await sql.end();
    };
  }
  // Let start-up settle before measuring the steady state. No forced gc() here: V8's memory
  // reducer answers a full collection with three more about 8 s later (0.35 s of a core with
  // 100,000 jobs), which would land in the window and be the benchmark's cost, not the runner's.
  await new Promise((r) => setTimeout(r, args.settleMs));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, args.seconds * 1000));
  const used = process.cpuUsage(cpu);
  const cpuPercent = ((used.user + used.system) / 1000 / (performance.now() - started)) * 100;
  const rss = rssMb();
  await stop();
  console.log(JSON.stringify({ cpuPercent, rssMb: rss, startMs }));
  process.exit(0);
}
void main();
