/**
 * Replicas share the work (the scale-out issue's item 4): per-second jobs whose handlers each hold
 * for a while, so more runs are needed at once than one replica's MAX_CONCURRENT_RUNS allows. On
 * one replica, the slots it had no room for are recorded missed at capacity; on three, every slot
 * runs, each replica taking a share. One of the three is SIGKILLed in the middle, and exactly once
 * is read from job_runs across the kill.
 */
import postgres from "postgres";
import { jobsModule, sleep } from "./lib.js";
import { exited, startRunner } from "./process-figures.js";
import { percentile } from "./stats.js";

export interface ShareArgs {
  jobs: number;
  holdMs: number;
  maxConcurrentRuns: number;
  seconds: number;
  replicas: number;
  /** SIGKILL the last replica this far into the window (ms); none when undefined. */
  killAtMs?: number;
}

/** Figures of one part of the window (before or after the kill). */
export interface SharePart {
  slots: number;
  /** Slots whose handler started (a row other than missed at capacity, and not claimed then lost at the kill). */
  ran: number;
  missedAtCapacity: number;
  /** Slots the killed replica had claimed and not finished (left to the reaper: abandoned). */
  lostAtKill: number;
  /** Slots with no row at all (should be none: every slot is run or recorded). */
  noRow: number;
  /** Start delay, handler start minus instant, ms (measured by each handler). */
  p50: number;
  p99: number;
  /** Runs started per replica. */
  perReplica: number[];
}

export interface Share {
  before: SharePart;
  after?: SharePart;
  whole: SharePart;
  /** Slots with more than one row, over the whole window (exactly once: 0). */
  duplicates: number;
}

export async function share(url: string, schema: string, args: ShareArgs): Promise<Share> {
  // The delay is measured at the handler's start and returned, so it lands in job_runs.result.
  const module = jobsModule(
    args.jobs,
    `(_, i) => ({
  name: "hold-" + i, schedule: "* * * * * *", catchUp: "none", overlap: "allow", timeout: "30s",
  run: async (ctx) => {
    const delay_ms = now() - ctx.scheduledFor.getTime();
    await new Promise((resolve) => setTimeout(resolve, ${args.holdMs}));
    return { delay_ms };
  },
})`,
  );
  const env = (i: number) => ({
    DATABASE_URL: url,
    DATABASE_SCHEMA: schema,
    HTTP_PORT: "0",
    JOB_RUNNER_ID: `replica-${i}`,
    MAX_CONCURRENT_RUNS: String(args.maxConcurrentRuns),
  });
  const children = Array.from({ length: args.replicas }, (_, i) =>
    startRunner(env(i), ["--jobs", module, "--interval", "2"]),
  );
  // Start-up (quick for the short mode's few jobs), then the runs in flight reach their steady number.
  await sleep((args.jobs > 100 ? 3000 : 1500) + args.holdMs);
  const from = Math.ceil(Date.now() / 1000) * 1000;
  let killedAt: number | undefined;
  if (args.killAtMs !== undefined) {
    await sleep(from + args.killAtMs - Date.now());
    children.at(-1)!.kill("SIGKILL");
    killedAt = Date.now();
  }
  await sleep(from + args.seconds * 1000 - Date.now());
  const to = Math.floor(Date.now() / 1000) * 1000 - 1000;
  // The window's last slots: their tolerance (2 s) and their handlers (holdMs) end first.
  await sleep(2500 + args.holdMs);
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(children.map(exited));
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  try {
    const part = (a: number, b: number) => sharePart(sql, args, new Date(a), new Date(b));
    // Before: slots whose runs had ended at the kill; after: from the second after it. The slots
    // between are the ones the killed replica held (in neither part; counted in the whole window).
    const killSecond = killedAt ? Math.floor(killedAt / 1000) * 1000 : undefined;
    const before = await part(
      from,
      killSecond ? Math.floor((killSecond - args.holdMs) / 1000) * 1000 - 1000 : to,
    );
    const after = killSecond ? await part(killSecond + 2000, to) : undefined;
    const whole = await part(from, to);
    const [dupes] = await sql<{ n: number }[]>`
      select count(*)::int as n from (select 1 from job_runs
      where scheduled_for between ${new Date(from)} and ${new Date(to)}
      group by job_name, scheduled_for having count(*) > 1) d`;
    return { before, after, whole, duplicates: dupes!.n };
  } finally {
    await sql.end();
  }
}

async function sharePart(sql: postgres.Sql, args: ShareArgs, from: Date, to: Date): Promise<SharePart> {
  const rows = await sql<{ delay: number | null; status: string; error: string | null; runner_id: string }[]>`
    select (result->>'delay_ms')::float8 as delay, status, error, runner_id from job_runs
    where scheduled_for between ${from} and ${to} and attempt = 1`;
  const slots = args.jobs * ((to.getTime() - from.getTime()) / 1000 + 1);
  const missed = rows.filter((r) => r.error?.startsWith("missed: at capacity")).length;
  const lost = rows.filter((r) => r.status === "abandoned" || r.status === "running").length;
  const ran = rows.filter((r) => r.status === "succeeded");
  const delays = ran.flatMap((r) => (r.delay === null ? [] : [r.delay]));
  return {
    slots,
    ran: ran.length,
    missedAtCapacity: missed,
    lostAtKill: lost,
    noRow: slots - rows.length,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    perReplica: Array.from(
      { length: args.replicas },
      (_, i) => ran.filter((r) => r.runner_id === `replica-${i}`).length,
    ),
  };
}

const pct = (n: number, of: number) => `${((n / Math.max(of, 1)) * 100).toFixed(1)}%`;

function describe(p: SharePart): string {
  const total = p.perReplica.reduce((a, b) => a + b, 0);
  return `ran ${p.ran}/${p.slots} (${pct(p.ran, p.slots)}), missed at capacity ${p.missedAtCapacity}, no row ${p.noRow}; start delay p50 ${p.p50.toFixed(1)}, p99 ${p.p99.toFixed(1)} ms; shares ${p.perReplica.map((n) => pct(n, total)).join(" / ")}`;
}

/** The figure's row: three replicas (one killed mid-window) beside one, in the same bench run. */
export async function replicaShares(
  url: string,
  schema: (name: string) => string,
  sizes: Omit<ShareArgs, "replicas" | "killAtMs">,
): Promise<{ runner: string; baseline: string; met: boolean }> {
  const one = await share(url, schema("share1"), { ...sizes, replicas: 1 });
  const three = await share(url, schema("share3"), {
    ...sizes,
    replicas: 3,
    killAtMs: (sizes.seconds * 1000) / 2,
  });
  const b = three.before;
  const shares = b.perReplica.map((n) => n / Math.max(b.ran, 1));
  const w = three.whole;
  const runner = `3 replicas, before the kill: ${describe(b)}; after SIGKILL of one (2 left): ${describe(three.after!)}; whole window: ${w.lostAtKill} slots held by the killed replica left to the reaper, ${w.noRow} without a row, slots run twice ${three.duplicates}`;
  const baseline = `1 replica: ${describe(one.before)}; slots run twice ${one.duplicates}`;
  const met =
    b.ran === b.slots &&
    b.p99 <= 50 &&
    shares.every((s) => s >= 0.23 && s <= 0.43) &&
    three.duplicates === 0 &&
    w.noRow === 0 &&
    one.duplicates === 0 &&
    Math.abs(one.before.ran / one.before.slots - 0.4) <= 0.1 &&
    one.before.ran + one.before.missedAtCapacity === one.before.slots;
  return { runner, baseline, met };
}
