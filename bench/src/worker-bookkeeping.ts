/**
 * Runs recorded per second: no-op jobs triggered back to back (claim + finish + heartbeat),
 * against the raw ceiling of postgres.js doing INSERT ... RETURNING then UPDATE over the same pool.
 */
import { migratedPool, silentRunner } from "./bench-runner.js";

interface Args {
  mode: "runner" | "raw";
  seconds: number;
  concurrency: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  let one: () => Promise<unknown>;
  let stop = async () => {};
  if (args.mode === "raw") {
    one = async () => {
      const [row] =
        await sql`insert into job_runs (job_name, trigger, status, runner_id) values ('raw', 'manual', 'running', 'bench') returning id`;
      await sql`update job_runs set status = 'succeeded', finished_at = now(), duration_ms = 0 where id = ${row!.id}`;
    };
  } else {
    const runner = await silentRunner(sql, args.schema, {
      JOB_RUNNER_ID: "bench",
      JOB_LOOP_INTERVAL_SECONDS: "3600",
    });
    for (let i = 0; i < args.concurrency; i++)
      runner.registerJob({ name: `noop-${i}`, schedule: "@yearly", overlap: "allow", run: () => {} });
    await runner.start();
    let next = 0;
    one = async () => (await runner.triggerJob(`noop-${next++ % args.concurrency}`)).done;
    stop = () => runner.stop();
  }
  const deadline = Date.now() + args.seconds * 1000;
  let count = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (Date.now() < deadline) {
        await one();
        count++;
      }
    }),
  );
  const perSecond = count / ((performance.now() - started) / 1000);
  await stop();
  await sql.end();
  console.log(JSON.stringify({ perSecond }));
  process.exit(0);
}
void main();
