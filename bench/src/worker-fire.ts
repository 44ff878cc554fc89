/**
 * Fire delay of scheduled handlers: one job or a fan-out of many due at the same second.
 * mode "runner": runner with the durable claim; "croner": one croner Cron per job (baseline);
 * "timeout": a bare setTimeout to the next second (baseline, one job only).
 */
import { Cron } from "croner";
import pino from "pino";
import { loadConfig } from "../../dist/config.js";
import { createPool } from "../../dist/db.js";
import { migrate } from "../../dist/migrate.js";
import { Runner } from "../../dist/runner.js";
import { rssMb } from "./lib.js";

interface Args {
  mode: "runner" | "croner" | "timeout";
  /** Cron of every job; default every second. Fan-outs fire once a minute, at a second chosen ahead. */
  schedule?: string;
  jobs: number;
  fires: number;
  url?: string;
  schema?: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
// "soon": one fire, at a second 15 s from now (well after start-up), then not again for a minute.
const once = args.schedule === "soon";
const schedule = once
  ? `${(new Date().getUTCSeconds() + 15) % 60} * * * * *`
  : (args.schedule ?? "* * * * * *");

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
  fires.size > args.fires ||
  (fires.size === args.fires && [...fires.values()].every((f) => f.starts === args.jobs));

async function main() {
  let stop = async () => {};
  if (args.mode === "timeout") {
    let n = 0;
    const arm = () => {
      const target = Math.ceil((Date.now() + 1) / 1000) * 1000;
      setTimeout(() => {
        record(target);
        if (++n < args.fires) arm();
      }, target - Date.now());
    };
    arm();
  } else if (args.mode === "croner") {
    const crons = Array.from(
      { length: args.jobs },
      () =>
        new Cron(schedule, (self: Cron) =>
          record(Math.round((self.currentRun()?.getTime() ?? Date.now()) / 1000) * 1000),
        ),
    );
    stop = async () => crons.forEach((c) => c.stop());
  } else {
    const sql = createPool(args.url!, args.schema!, 10);
    await migrate(sql, args.schema!);
    const config = loadConfig({
      DATABASE_SCHEMA: args.schema!,
      JOB_RUNNER_ID: "bench",
      JOB_LOOP_INTERVAL_SECONDS: "60",
      RUN_RETENTION_DAYS: "0",
    });
    const runner = new Runner({ config, sql, log: pino({ level: "silent" }) });
    for (let i = 0; i < args.jobs; i++) {
      runner.registerJob({
        name: `fire-${i}`,
        schedule: "* * * * * *",
        catchUp: "none",
        overlap: "allow",
        run: (ctx) => record(ctx.scheduledFor!.getTime()),
      });
    }
    await runner.start();
    stop = async () => {
      await runner.stop();
      await sql.end();
    };
  }
  const started = Date.now();
  while (!done() && Date.now() - started < (args.fires + 5) * 1000)
    await new Promise((r) => setTimeout(r, 50));
  const rss = rssMb();
  await stop();
  // The first fire may land mid-startup: measure the ones after it.
  const measured = [...fires.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(args.mode === "timeout" || once ? 0 : 1);
  const complete = measured.every(([, f]) => f.starts === args.jobs);
  console.log(
    JSON.stringify({
      first: measured.map(([, f]) => f.first),
      last: measured.map(([, f]) => f.last),
      complete,
      rssMb: rss,
    }),
  );
  process.exit(0);
}
void main();
