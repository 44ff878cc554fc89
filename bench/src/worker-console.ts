/**
 * The console's pages on real volumes: `jobs` jobs and `rows` rows in job_runs (seeded with one
 * INSERT ... SELECT generate_series), some failing, some paused, one running; then GET / and
 * GET /jobs/:name (unfiltered, filtered by status, an older page by its cursor, and a per-second
 * job's page, whose Slots section reads the most instants) timed over
 * loopback with the admin's credentials: server time from each page's Server-Timing header, and
 * the whole request as the client saw it.
 */
import { migratedPool, silentDaemon } from "./bench-runner.js";
import { startSidecar } from "../../dist/http/sidecar.js";
import { sleep } from "./lib.js";
import { percentile } from "./stats.js";

interface Args {
  jobs: number;
  rows: number;
  requests: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;
const name = (i: number) => `job-${String(i).padStart(4, "0")}`;

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  const runner = await silentDaemon(sql, args.schema, {
    JOB_RUNNER_ID: "console",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: "0",
    ADMIN_BASIC_USERNAME: "bench",
    ADMIN_BASIC_PASSWORD: "bench-console-pass",
  });
  // Varied schedules (cronstrue words each), all on 1 January: none fires while measuring.
  for (let i = 0; i < args.jobs; i++)
    runner.registerJob({ name: name(i), schedule: `${i % 60} ${i % 24} 1 1 ${i % 7}`, run: () => {} });
  // The job page's Slots section reads at most 500 instants: a per-second job in a zone with
  // DST (the dearest instants to compute), disabled so that it never fires while measuring.
  runner.registerJob({
    name: "dense",
    schedule: "* * * * * *",
    timezone: "Europe/Paris",
    enabled: false,
    run: () => {},
  });
  const sidecar = await startSidecar(runner);
  await runner.start();
  // Seen two days ago: its whole 24 h window is planned slots, not only the seconds since start.
  await sql`update job_state set first_seen_at = now() - interval '2 days' where job_name = 'dense'`;
  const seedStarted = performance.now();
  await sql`
    insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at,
      finished_at, duration_ms, error)
    select 'job-' || lpad((g % ${args.jobs})::text, 4, '0'), now() - g * interval '1 second', 'schedule', 1,
      case when g % 17 = 0 then 'failed' when g % 101 = 0 then 'timed_out' else 'succeeded' end,
      'replica-' || (g % 3), now() - g * interval '1 second', now() - g * interval '1 second' + interval '40 ms',
      (g % 900) + 5, case when g % 17 = 0 then 'upstream answered 502 after ' || (g % 900) || ' ms' end
    from generate_series(1, ${args.rows}) as g`;
  await sql`
    update job_heartbeats set consecutive_failures = 3, last_error = 'upstream answered 502'
    where name in (select 'job-' || lpad(i::text, 4, '0') from generate_series(0, ${args.jobs - 1}, 10) as i)`;
  await sql`
    update job_state set paused = true, paused_by = 'bench', paused_reason = 'vendor maintenance'
    where job_name in (select 'job-' || lpad(i::text, 4, '0') from generate_series(5, ${args.jobs - 1}, 50) as i)`;
  await sql`analyze job_runs`;
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const auth = { authorization: `Basic ${Buffer.from("bench:bench-console-pass").toString("base64")}` };
  const base = `http://127.0.0.1:${sidecar.port}`;
  const middle = name(Math.floor(args.jobs / 2));
  const [cursor] = await sql<{ id: string }[]>`
    select id::text from job_runs where job_name = ${middle} order by started_at desc, id desc offset 200 limit 1`;
  // The page's own Server-Timing (routing to HTML, database included), and the whole request as
  // the client saw it. On a shared machine both include waiting for a core.
  const time = async (path: string) => {
    const server: number[] = [];
    const client: number[] = [];
    let bytes = 0;
    for (let i = 0; i < args.requests + 5; i++) {
      const started = performance.now();
      const res = await fetch(`${base}${path}`, { headers: auth });
      bytes = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
      if (i < 5) continue;
      client.push(performance.now() - started);
      server.push(Number(/dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1] ?? Number.NaN));
    }
    return {
      p50: percentile(server, 50),
      p95: percentile(server, 95),
      clientP95: percentile(client, 95),
      bytes,
    };
  };
  const seqScans = async () => {
    const [row] = await sql<{ n: string }[]>`
      select seq_scan::text as n from pg_stat_user_tables where relid = 'job_runs'::regclass`;
    return Number(row!.n);
  };
  // Other sessions report their counters when idle, at most once a second.
  await sleep(1500);
  const scansBefore = await seqScans();
  const overview = await time("/");
  const job = await time(`/jobs/${middle}`);
  const failed = await time(`/jobs/${middle}?status=failed`);
  const older = await time(`/jobs/${middle}?before=${cursor?.id ?? "1"}`);
  const dense = await time("/jobs/dense");
  await sleep(1500);
  const seqScansDuring = (await seqScans()) - scansBefore;
  await runner.stop();
  await sql.end();
  console.log(JSON.stringify({ overview, job, failed, older, dense, seedSeconds, seqScansDuring }));
  process.exit(0);
}
void main();
