/**
 * The scale-out issue's item 7, simulated: R replicas (bin/runner processes) with J jobs against
 * one database, every replica evaluating every job (the design as built: no partitioning). One
 * replica, the one that ran the most slots lately, is SIGKILLed in the middle. Read from job_runs:
 * how long until a slot runs again after the kill, until no slot is lost any more, how many the
 * killed replica held (left to the reaper), and whether any slot ran twice.
 */
import postgres from "postgres";
import { jobsModule, sleep } from "./lib.js";
import { exited, startRunner } from "./process-figures.js";
import { percentile } from "./stats.js";

export interface FailoverArgs {
  replicas: number;
  jobs: number;
  /** Seconds measured before the kill, then after it. */
  seconds: number;
  /** Longest start-up to wait for (every replica running slots), ms. */
  startupMs: number;
  /** Wait after start-up before the window: the replicas' first seconds catch up with it (ms). */
  settleMs: number;
}

export interface Failover {
  /** From launch until every replica had claimed a slot (ms). */
  startupMs: number;
  /** Slots of the window before the kill, and how many ran (succeeded). */
  before: { slots: number; ran: number; noRow: number; p50: number; p99: number; perReplica: number[] };
  after: { slots: number; ran: number; noRow: number; p50: number; p99: number };
  /** Kill to the first handler start of another replica after it (ms). */
  firstRunAfterKillMs: number;
  /** Kill to the instant of the last slot the kill lost (no run, or left to the reaper); 0 when none. */
  lostUntilMs: number;
  /** Slots the killed replica held at the kill, and when the reaper recorded them (ms after the kill). */
  held: number;
  reapedAfterMs: number | undefined;
  duplicates: number;
}

/** Jobs once a minute, spread over the minute's seconds: J/60 slots every second. */
const minuteJobs = (jobs: number) =>
  jobsModule(
    jobs,
    `(_, i) => ({
  name: "sim-" + i, schedule: (i % 60) + " * * * * *", catchUp: "none", overlap: "allow",
  run: (ctx) => { const at = now(); return { delay_ms: at - ctx.scheduledFor.getTime(), at }; },
})`,
  );

export async function failover(url: string, schema: string, args: FailoverArgs): Promise<Failover> {
  const module = minuteJobs(args.jobs);
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  const launched = Date.now();
  const children = Array.from({ length: args.replicas }, (_, i) =>
    startRunner(
      { DATABASE_URL: url, DATABASE_SCHEMA: schema, HTTP_PORT: "0", JOB_RUNNER_ID: `replica-${i}` },
      ["--jobs", module, "--interval", "2"],
    ),
  );
  try {
    // Running once every replica has joined (job_runners) and slots are being claimed.
    for (;;) {
      if (Date.now() - launched > args.startupMs) throw new Error("the replicas never all started");
      await sleep(1000);
      const ready = await sql<{ n: number }[]>`
        select count(*)::int as n from job_runners where stopped_at is null`.catch(() => [{ n: 0 }]);
      const runs = await sql<{ n: number }[]>`
        select count(*)::int as n from job_runs where scheduled_for > now() - interval '3 s'`.catch(() => [
        { n: 0 },
      ]);
      if (ready[0]!.n >= args.replicas && runs[0]!.n > 0) break;
    }
    const startupMs = Date.now() - launched;
    await sleep(args.settleMs);
    const from = Math.ceil(Date.now() / 1000) * 1000;
    await sleep(from + args.seconds * 1000 - Date.now());
    const [top] = await sql<{ runner_id: string }[]>`
      select runner_id from job_runs where scheduled_for > now() - interval '5 s' and runner_id like 'replica-%'
      group by 1 order by count(*) desc limit 1`;
    const victim = Number(top!.runner_id.slice("replica-".length));
    children[victim]!.kill("SIGKILL");
    const killedAt = Date.now();
    await sleep(args.seconds * 1000);
    const to = Math.floor(Date.now() / 1000) * 1000 - 1000;
    // Read once the window's slots are decided: with start delays of seconds (ten processes on two
    // cores) its last second may not have run yet 2.5 s later. The killed replica's rows wait for
    // the reaper, which the figure reports; they are not waited for here.
    const settledBy = Date.now() + 30_000;
    for (;;) {
      await sleep(500);
      const [open] = await sql<{ n: number }[]>`
        select count(*)::int as n from job_runs where scheduled_for between ${new Date(from)} and ${new Date(to)}
          and attempt = 1 and status = 'running' and runner_id <> ${`replica-${victim}`}`;
      if (open!.n === 0 || Date.now() > settledBy) break;
    }
    return await readFailover(sql, args, { from, killedAt, to, victim: `replica-${victim}`, startupMs });
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.all(children.map(exited));
    await sql.end();
  }
}

interface Window {
  from: number;
  killedAt: number;
  to: number;
  victim: string;
  startupMs: number;
}

async function readFailover(sql: postgres.Sql, args: FailoverArgs, w: Window): Promise<Failover> {
  const rows = await sql<
    {
      at: Date;
      status: string;
      runner_id: string;
      delay: number | null;
      started: number | null;
      finished: Date | null;
    }[]
  >`
    select scheduled_for as at, status, runner_id, (result->>'delay_ms')::float8 as delay,
           (result->>'at')::float8 as started, finished_at as finished
    from job_runs where scheduled_for between ${new Date(w.from)} and ${new Date(w.to)} and attempt = 1`;
  // Job i fires at second i % 60 of every minute.
  const dueAt = (ms: number) => {
    const second = new Date(ms).getUTCSeconds();
    return second < args.jobs ? Math.floor((args.jobs - 1 - second) / 60) + 1 : 0;
  };
  const part = (a: number, b: number) => {
    const inPart = rows.filter((r) => r.at.getTime() >= a && r.at.getTime() < b);
    const ran = inPart.filter((r) => r.status === "succeeded");
    let slots = 0;
    for (let at = a; at < b; at += 1000) slots += dueAt(at);
    const delays = ran.flatMap((r) => (r.delay === null ? [] : [r.delay]));
    return {
      slots,
      ran: ran.length,
      // Not run: no row at all (missed as overloaded: catch-up none leaves no row), or another status.
      noRow: slots - inPart.length,
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      perReplica: Array.from(
        { length: args.replicas },
        (_, i) => ran.filter((r) => r.runner_id === `replica-${i}`).length,
      ),
    };
  };
  const killSecond = Math.floor(w.killedAt / 1000) * 1000;
  const afterKill = rows.filter((r) => r.runner_id !== w.victim && (r.started ?? 0) > w.killedAt);
  const held = rows.filter((r) => r.runner_id === w.victim && r.status !== "succeeded");
  const lostInstants = held.map((r) => r.at.getTime());
  const reaped = held.flatMap((r) => (r.finished ? [r.finished.getTime() - w.killedAt] : []));
  const [dupes] = await sql<{ n: number }[]>`
    select count(*)::int as n from (select 1 from job_runs
    where scheduled_for between ${new Date(w.from)} and ${new Date(w.to)}
    group by job_name, scheduled_for having count(*) > 1) d`;
  // Slots with no row at all after the kill would be lost too; with rows for every slot there are none.
  return {
    startupMs: w.startupMs,
    before: part(w.from, killSecond - 1000),
    after: part(killSecond + 2000, w.to + 1000),
    firstRunAfterKillMs: Math.min(...afterKill.map((r) => r.started! - w.killedAt)),
    lostUntilMs: lostInstants.length > 0 ? Math.max(...lostInstants) - w.killedAt : 0,
    held: held.length,
    reapedAfterMs: reaped.length > 0 ? Math.max(...reaped) : undefined,
    duplicates: dupes!.n,
  };
}

/** The figure's row: the replicas before the kill are the baseline of the same run. */
export async function failoverRow(url: string, schema: string, args: FailoverArgs) {
  const f = await failover(url, schema, args);
  const pct = (n: number, of: number) => `${((n / Math.max(of, 1)) * 100).toFixed(1)}%`;
  const shares = f.before.perReplica.filter((n) => n > 0).length;
  return {
    figure: `failover simulation: ${args.replicas} replicas (processes), ${args.jobs} jobs once a minute (${Math.round(args.jobs / 60)} slots a second), one SIGKILLed after ${args.seconds} s`,
    runner: `after the kill: ran ${f.after.ran}/${f.after.slots} (${pct(f.after.ran, f.after.slots)}; no row ${f.after.noRow}), start delay p50 ${f.after.p50.toFixed(0)}, p99 ${f.after.p99.toFixed(0)} ms; first run elsewhere ${f.firstRunAfterKillMs.toFixed(0)} ms after the kill; slots lost with the killed replica ${f.held} (instants up to ${f.lostUntilMs} ms after the kill), recorded abandoned ${f.reapedAfterMs === undefined ? "not yet" : `${(f.reapedAfterMs / 1000).toFixed(1)} s after it`}; slots run twice ${f.duplicates}`,
    baseline: `before the kill: ran ${f.before.ran}/${f.before.slots} (${pct(f.before.ran, f.before.slots)}; no row ${f.before.noRow}), start delay p50 ${f.before.p50.toFixed(0)}, p99 ${f.before.p99.toFixed(0)} ms, ${shares} of ${args.replicas} replicas ran slots; start-up of all ${(f.startupMs / 1000).toFixed(0)} s`,
    target: "failover measured; every slot once; partitioning only if needed for the targets",
    met: f.duplicates === 0 && f.after.ran === f.after.slots,
  };
}
