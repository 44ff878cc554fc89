/**
 * Runs recorded per second: no-op jobs triggered back to back (claim + finish + heartbeat),
 * against the raw ceiling of postgres.js doing INSERT ... RETURNING then UPDATE over the same pool.
 */
import { migratedPool, silentRunner } from "./bench-runner.js";

interface Args {
  /** raw-batched: the ceiling of batched bookkeeping (claim, outcome, heartbeat: three statements per batch). */
  mode: "runner" | "raw" | "raw-batched";
  seconds: number;
  concurrency: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
/** Runs per batched call: a second's worth of a 1,000-job fan-out. */
const BATCH = 1000;

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  /** One unit of work; resolves with how many runs it recorded (1 unless batched). */
  let one: () => Promise<unknown>;
  let stop = async () => {};
  if (args.mode === "raw-batched") {
    // The three writes of a fan-out second, batched as the ceiling states them:
    // INSERT ... SELECT FROM unnest ... ON CONFLICT DO NOTHING RETURNING, UPDATE ... FROM unnest,
    // and one heartbeat upsert per batch. `batch` runs count per call.
    // Whole seconds, one a batch: each batch claims a slot of its own for every job.
    let slot = Math.floor(Date.now() / 1000);
    const names = Array.from({ length: BATCH }, (_, i) => `raw-${i}`);
    one = async () => {
      const at = new Date(slot++ * 1000).toISOString();
      const claimed = await sql<{ id: string }[]>`
        insert into job_runs (job_name, scheduled_for, trigger, status, runner_id)
        select n, ${at}::timestamptz, 'schedule', 'running', 'bench' from unnest(${names}::text[]) as n
        on conflict do nothing returning id`;
      const ids = claimed.map((row) => row.id);
      await sql`update job_runs r set status = 'succeeded', finished_at = now(), duration_ms = 0
        from unnest(${ids}::bigint[]) as u(id) where r.id = u.id`;
      await sql`insert into job_heartbeats (name, runner_id, last_heartbeat, last_success_at, consecutive_failures)
        select n, 'bench', now(), now(), 0 from unnest(${names}::text[]) as n
        on conflict (name) do update set last_heartbeat = now(), last_success_at = now(), consecutive_failures = 0`;
      return BATCH;
    };
  } else if (args.mode === "raw") {
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
        const done = await one();
        count += typeof done === "number" ? done : 1;
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
