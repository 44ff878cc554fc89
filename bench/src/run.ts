/**
 * npm run bench [-- --short]: every figure of the benchmarks issue beside a baseline measured in
 * the same run, printed as one table and written to bench/RESULTS.md. Each figure is the median of
 * several runs with its range. --short (or BENCH_SHORT=1) runs tiny sizes in seconds, for CI:
 * it checks that the suite runs and prints, and asserts no timing.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { startEmbedded } from "../../dist/store/embedded.js";
import { HERE, worker } from "./lib.js";
import { type ScaleOut, scaleOut, startStop } from "./process-figures.js";
import { replicaShares } from "./share-figure.js";
import { failoverRow } from "./failover-sim.js";
import { overloadRow } from "./overload-figure.js";
import { median, percentile, spread } from "./stats.js";

const SHORT = process.argv.includes("--short") || process.env.BENCH_SHORT === "1";
/** `--only name,name`: run just those steps (names as printed, e.g. "sustained fan-out"); prints, writes nothing. */
const ONLY = process.argv
  .find((arg) => arg.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const size = <T>(full: T, short: T) => (SHORT ? short : full);
const RUNS = size(3, 1);

interface Row {
  figure: string;
  runner: string;
  baseline: string;
  target: string;
  met: boolean | undefined;
}
const rows: Row[] = [];
/** Every schema this run creates, dropped at the end: the server may be shared. */
const schemas: string[] = [];
const schema = (name: string) => {
  const created = `bench_${name}_${randomBytes(3).toString("hex")}`;
  schemas.push(created);
  return created;
};
const repeat = async <T>(n: number, fn: () => Promise<T>) => {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
};
/**
 * Runs of a figure and of its baseline, taken in turn (figure, baseline, figure, ...), so that a
 * burst of other work on this shared machine falls on both rather than on three runs of one.
 */
const paired = async <A, B>(n: number, figure: () => Promise<A>, baseline: () => Promise<B>) => {
  const out: [A[], B[]] = [[], []];
  for (let i = 0; i < n; i++) {
    out[0].push(await figure());
    out[1].push(await baseline());
  }
  return out;
};

interface Fire {
  first: number[];
  last: number[];
  complete: boolean;
  rssMb: number;
}

async function fireOne(url: string) {
  const fires = size(30, 3);
  const runs = await repeat(RUNS, () =>
    Promise.all([
      worker<Fire>("worker-fire", {
        mode: "runner",
        jobs: 1,
        burst: false,
        fires,
        url,
        schema: schema("fire"),
      }),
      worker<Fire>("worker-fire", { mode: "croner", jobs: 1, burst: false, fires }),
      worker<Fire>("worker-fire", { mode: "timeout", jobs: 1, burst: false, fires }),
    ]),
  );
  const p = (i: number, q: number) => runs.map((r) => percentile(r[i]!.first, q));
  const p50 = p(0, 50);
  const p99 = p(0, 99);
  rows.push({
    figure: "fire delay, one job (ms)",
    runner: `p50 ${spread(p50, 2)}, p99 ${spread(p99, 2)}`,
    baseline: `setTimeout p50 ${spread(p(2, 50), 2)} p99 ${spread(p(2, 99), 2)}; croner p50 ${spread(p(1, 50), 2)} p99 ${spread(p(1, 99), 2)}`,
    target: "p50 ≤ 2.5, p99 ≤ 6",
    met: median(p50) <= 2.5 && median(p99) <= 6,
  });
}

/** One burst per process: every job due at the same second, once. */
async function fanOut(url: string, jobs: number, lastTarget: number, rssTarget: number) {
  const [runner, croner] = await paired(
    RUNS,
    () =>
      worker<Fire>("worker-fire", {
        mode: "runner",
        jobs,
        burst: true,
        fires: 1,
        url,
        schema: schema("fan"),
      }),
    () => worker<Fire>("worker-fire", { mode: "croner", jobs, burst: true, fires: 1 }),
  );
  const last = runner.map((r) => median(r.last));
  const complete = runner.every((r) => r.complete);
  const rss = runner.map((r) => r.rssMb);
  rows.push({
    figure: `fire delay, fan-out ${jobs} (last start ms; peak RSS MB)`,
    runner: `${spread(last)}; every fire: ${complete ? "yes" : "NO"}; RSS ${spread(rss, 0)}`,
    baseline: `croner ${spread(croner.map((r) => median(r.last)))}; every fire: ${croner.every((r) => r.complete) ? "yes" : "no"}; RSS ${spread(
      croner.map((r) => r.rssMb),
      0,
    )}`,
    target: `last ≤ ${lastTarget} ms, every fire${rssTarget ? `, RSS ≤ ${rssTarget} MB` : ""}`,
    met: median(last) <= lastTarget && complete && (!rssTarget || median(rss) <= rssTarget),
  });
}

async function bookkeeping(url: string) {
  const args = { seconds: size(5, 1), concurrency: 32, url };
  type Rate = { perSecond: number };
  const [runner, raw] = await paired(
    RUNS,
    () => worker<Rate>("worker-bookkeeping", { ...args, mode: "runner", schema: schema("book") }),
    () => worker<Rate>("worker-bookkeeping", { ...args, mode: "raw", schema: schema("raw") }),
  );
  const r = median(runner.map((x) => x.perSecond));
  const b = median(raw.map((x) => x.perSecond));
  rows.push({
    figure: "bookkeeping (runs recorded per second)",
    runner: `${spread(
      runner.map((x) => x.perSecond),
      0,
    )} = ${((r / b) * 100).toFixed(0)}% of raw`,
    baseline: `raw INSERT+UPDATE ${spread(
      raw.map((x) => x.perSecond),
      0,
    )}`,
    target: "≥ 50% of raw and ≥ 2,000/s",
    met: r >= b / 2 && r >= 2000,
  });
}

/**
 * Sustained fan-out: every job on "* * * * * *" for a minute in one process, every second, with
 * the bookkeeping of every run (claim, outcome, heartbeat) against the same database. Baseline:
 * croner alone, one Cron per job, nothing recorded. Bookkeeping is read off the same run (rows
 * recorded per second) beside the batched raw ceiling of the same three writes.
 */
async function sustained(url: string) {
  const jobs = size(10_000, 200);
  const fires = size(60, 3);
  type Sustained = Fire & {
    starts: number;
    recorded?: { recorded: number; slots: number; unfinished: number };
  };
  const [runner, croner] = await paired(
    1,
    () =>
      worker<Sustained>(
        "worker-fire",
        { mode: "runner", jobs, burst: false, fires, url, schema: schema("sus") },
        600_000,
      ),
    () => worker<Sustained>("worker-fire", { mode: "croner", jobs, burst: false, fires }, 600_000),
  );
  const r = runner[0]!;
  const c = croner[0]!;
  const rec = r.recorded!;
  const once = rec.recorded === rec.slots && rec.unfinished === 0 && r.complete;
  rows.push({
    figure: `sustained fan-out, ${jobs} per-second jobs for ${fires} s (last start of each second ms: p50, p99; peak RSS MB)`,
    runner: `p50 ${percentile(r.last, 50).toFixed(0)}, p99 ${percentile(r.last, 99).toFixed(0)}; every second complete: ${r.complete ? "yes" : "NO"}; ${rec.recorded} rows for ${rec.slots} slots, ${rec.unfinished} not succeeded; RSS ${r.rssMb.toFixed(0)}`,
    baseline: `croner p50 ${percentile(c.last, 50).toFixed(0)}, p99 ${percentile(c.last, 99).toFixed(0)}; complete: ${c.complete ? "yes" : "no"}; RSS ${c.rssMb.toFixed(0)}`,
    target: "every slot once; p50 ≤ 150, p99 ≤ 400; RSS ≤ 300",
    met: once && percentile(r.last, 50) <= 150 && percentile(r.last, 99) <= 400 && r.rssMb <= 300,
  });
  const args = { seconds: size(10, 1), concurrency: 4, url };
  const raw = await worker<{ perSecond: number }>("worker-bookkeeping", {
    ...args,
    mode: "raw-batched",
    schema: schema("rawb"),
  });
  // At 10,000 a second the runner records all it is offered; its ceiling shows only when offered
  // more than it can record: twice as many per-second jobs, succeeded runs a second over the window.
  const satSeconds = size(20, 2);
  const sat = await worker<Sustained>(
    "worker-fire",
    { mode: "runner", jobs: 2 * jobs, burst: false, fires: satSeconds, url, schema: schema("sat") },
    600_000,
  );
  const satRec = sat.recorded!;
  const perSecond = (satRec.recorded - satRec.unfinished) / (satSeconds + 1);
  rows.push({
    figure: "bookkeeping at saturation (succeeded runs recorded per second: claim, outcome, heartbeat)",
    runner: `${perSecond.toFixed(0)} = ${((perSecond / raw.perSecond) * 100).toFixed(0)}% of the batched ceiling (${2 * jobs} per-second jobs offered for ${satSeconds} s; ${satRec.recorded} rows for ${satRec.slots} slots; at 10,000 offered: ${(rec.recorded / (fires + 1)).toFixed(0)}/s)`,
    baseline: `batched raw (INSERT ... unnest, UPDATE ... FROM unnest, one heartbeat upsert per 1,000) ${raw.perSecond.toFixed(0)}/s`,
    target: "≥ 10,000/s and ≥ 40% of the batched ceiling",
    met: perSecond >= 10_000 && perSecond >= 0.4 * raw.perSecond,
  });
}

interface LedgerRates {
  runsWritesPerSecond: number;
  slotsWritesPerSecond: number;
  runsBytesPerSecond: number;
  slotsBytesPerSecond: number;
  slotsBytes: number;
  slotsRows: number;
  slotsPerSecond: number;
}

/** The slot ledger beside job_runs, for per-second jobs running and then all paused. */
async function ledgerCost(url: string) {
  const jobs = size(1000, 50);
  const seconds = size(30, 2);
  const r = await worker<{ running: LedgerRates; paused: LedgerRates }>(
    "worker-ledger",
    { jobs, seconds, url, schema: schema("ledger") },
    300_000,
  );
  const day = (bytesPerSecond: number) => `${((bytesPerSecond * 86_400) / 1024 ** 3).toFixed(2)} GiB/day`;
  rows.push({
    figure: `slot ledger cost, ${jobs} per-second jobs for ${seconds} s running, then ${seconds} s all paused (row writes/s; growth extrapolated to a day)`,
    runner: `running: job_slots ${r.running.slotsWritesPerSecond.toFixed(1)} writes/s, ${day(r.running.slotsBytesPerSecond)}; paused: job_slots ${r.paused.slotsWritesPerSecond.toFixed(0)} writes/s for ${r.paused.slotsPerSecond.toFixed(0)} slots/s, ${r.paused.slotsRows} rows, ${(r.paused.slotsBytes / 1024).toFixed(0)} KiB after the window (in-place updates: bounded by jobs, not slots)`,
    baseline: `job_runs alone while running: ${r.running.runsWritesPerSecond.toFixed(0)} writes/s (insert + outcome update), ${day(r.running.runsBytesPerSecond)}`,
    target: "the ledger adds no write per run; a paused job costs one row",
    met: r.running.slotsWritesPerSecond < 1 && r.paused.slotsRows <= jobs,
  });
}

async function idle(url: string) {
  const seconds = size(60, 2);
  const settleMs = size(30_000, 500); // as the 100,000-job figure: past start-up and its memory reducer
  const sizes = size([1000, 10_000], [100]);
  type Idle = { cpuPercent: number; rssMb: number };
  const [empty, ...measured] = await Promise.all([
    worker<Idle>("worker-idle", { mode: "empty", jobs: 0, seconds, settleMs }),
    ...sizes.map((jobs) =>
      worker<Idle>("worker-idle", { mode: "runner", jobs, seconds, settleMs, url, schema: schema("idle") }),
    ),
  ]);
  sizes.forEach((jobs, i) => {
    const m = measured[i]!;
    const rssTarget = jobs >= 10_000 ? 150 : 90;
    rows.push({
      figure: `idle cost, ${jobs} daily jobs (CPU % of a core; RSS MB)`,
      runner: `${m.cpuPercent.toFixed(2)}%; ${m.rssMb.toFixed(0)} MB`,
      baseline: `empty Node ${empty!.cpuPercent.toFixed(2)}%; ${empty!.rssMb.toFixed(0)} MB`,
      target: `CPU ≤ 0.5%, RSS ≤ ${rssTarget} MB`,
      met: m.cpuPercent <= 0.5 && m.rssMb <= rssTarget,
    });
  });
}

/** One replica with 100,000 daily jobs: registration and start, idle cost, and a /metrics scrape. */
async function hundredThousand(url: string) {
  const jobs = size(100_000, 1000);
  type Idle = { cpuPercent: number; rssMb: number; startMs: number };
  const idle = await worker<Idle>(
    "worker-idle",
    // Measured from 30 s after the start: V8's memory reducer runs three full collections of the
    // start-up heap about 10 s after its last one (0.35 s of a core here, once), which is start-up's cost.
    { mode: "runner", jobs, seconds: size(60, 2), settleMs: size(30_000, 500), url, schema: schema("big") },
    600_000,
  );
  type Timing = { p50: number; p99: number; bytes: number };
  const scraped = await worker<{ metrics: Timing; livez: Timing }>(
    "worker-scrape",
    { jobs, requests: size(20, 3), history: false, url, schema: schema("bigscrape") },
    600_000,
  );
  rows.push({
    figure: `one replica, ${jobs} daily jobs (register and start ms; idle CPU % of a core; RSS MB; /metrics p99 ms)`,
    runner: `${idle.startMs.toFixed(0)}; ${idle.cpuPercent.toFixed(2)}%; ${idle.rssMb.toFixed(0)} MB; scrape p50 ${scraped.metrics.p50.toFixed(0)}, p99 ${scraped.metrics.p99.toFixed(0)} (${(scraped.metrics.bytes / 1048576).toFixed(1)} MiB)`,
    baseline: `/livez p99 ${scraped.livez.p99.toFixed(2)} on the same listener`,
    target: "start ≤ 10,000; CPU ≤ 1%; RSS ≤ 400; scrape p99 ≤ 250",
    met: idle.startMs <= 10_000 && idle.cpuPercent <= 1 && idle.rssMb <= 400 && scraped.metrics.p99 <= 250,
  });
}

async function startAndStop(url: string) {
  const s = schema("start");
  await startStop(url, s); // the first start migrates the schema; measure warm starts
  const runs = await repeat(size(5, 1), () => startStop(url, s));
  const start = runs.map((r) => r.startMs);
  const stop = runs.map((r) => r.stopMs);
  rows.push({
    figure: "start to /readyz 200; SIGTERM to exit (ms)",
    runner: `${spread(start, 0)}; ${spread(stop, 0)}`,
    baseline: "—",
    target: "≤ 1,500; ≤ 300",
    met: median(start) <= 1500 && median(stop) <= 300,
  });
}

async function scrape(url: string) {
  type Timing = { p50: number; p99: number; bytes: number };
  const jobs = size(1000, 50);
  const runs = await repeat(RUNS, () =>
    worker<{ metrics: Timing; livez: Timing }>("worker-scrape", {
      jobs,
      requests: size(200, 20),
      url,
      schema: schema("scrape"),
    }),
  );
  const p99 = runs.map((r) => r.metrics.p99);
  rows.push({
    figure: `scrape /metrics, ${jobs} jobs (ms)`,
    runner: `p50 ${spread(
      runs.map((r) => r.metrics.p50),
      2,
    )}, p99 ${spread(p99, 2)}; ${(runs[0]!.metrics.bytes / 1024).toFixed(0)} KiB`,
    baseline: `/livez p50 ${spread(
      runs.map((r) => r.livez.p50),
      2,
    )}, p99 ${spread(
      runs.map((r) => r.livez.p99),
      2,
    )}`,
    target: "p99 ≤ 25 ms",
    met: median(p99) <= 25,
  });
}

async function consolePages(url: string) {
  type Timing = { p50: number; p95: number; clientP95: number; bytes: number };
  type Page = "overview" | "job" | "failed" | "older" | "dense";
  type Result = Record<Page, Timing> & { seedSeconds: number; seqScansDuring: number };
  const jobs = size(1000, 20);
  const runRows = size(1_000_000, 5_000);
  const runs = await repeat(RUNS, () =>
    worker<Result>(
      "worker-console",
      { jobs, rows: runRows, requests: size(200, 10), url, schema: schema("console") },
      600_000,
    ),
  );
  const of = (page: Page, key: keyof Omit<Timing, "bytes">) =>
    spread(
      runs.map((r) => r[page][key]),
      1,
    );
  const p = (page: Page) => `p50 ${of(page, "p50")}, p95 ${of(page, "p95")}`;
  const pages: Page[] = ["overview", "job", "failed", "older", "dense"];
  const p95s = pages.map((page) => median(runs.map((r) => r[page].p95)));
  const scans = runs.reduce((sum, r) => sum + r.seqScansDuring, 0);
  rows.push({
    figure: `console pages, ${jobs} jobs, ${runRows.toLocaleString("en")} runs (server time ms, Server-Timing)`,
    runner: `GET / ${p("overview")} (${(runs[0]!.overview.bytes / 1024).toFixed(0)} KiB); /jobs/:name ${p("job")}; ?status=failed ${p("failed")}; older page ${p("older")}; a per-second job in Europe/Paris (Slots: 500 instants) ${p("dense")}; seq scans of job_runs while measuring: ${scans}`,
    baseline: `as the client saw it, p95: GET / ${of("overview", "clientP95")}, /jobs/:name ${of("job", "clientP95")}; seeding ${spread(
      runs.map((r) => r.seedSeconds),
      0,
    )} s`,
    target: "p95 ≤ 50 ms each; no seq scan",
    met: Math.max(...p95s) <= 50 && scans === 0,
  });
}

async function scale(url: string) {
  const jobs = size(1000, 50);
  const seconds = size(30, 2);
  const one = await scaleOut(url, schema("scale1"), jobs, seconds, 1);
  const three = await scaleOut(url, schema("scale3"), jobs, seconds, 3);
  const once = (s: ScaleOut) => s.duplicates === 0 && s.failed === 0 && s.slots === s.expected;
  const describe = (s: ScaleOut) =>
    `p50 ${spread(s.p50)}, p99 ${spread(s.p99)}; slots ${s.slots}/${s.expected} (${s.perReplica.join(" + ")}), duplicates ${s.duplicates}, not succeeded ${s.failed}`;
  rows.push({
    figure: `scale-out, ${jobs} per-second jobs for ${seconds} s (fire delay ms, median (range) of the window's thirds)`,
    runner: `3 replicas: ${describe(three)}`,
    baseline: `1 replica: ${describe(one)}`,
    target: "every slot once; p99 on 3 ≤ 2x of 1",
    met: once(one) && once(three) && median(three.p99) <= 2 * Math.max(median(one.p99), 1),
  });
}

/** 300 per-second jobs holding 2 s under MAX_CONCURRENT_RUNS=250: one replica, then three (one killed). */
async function shares(url: string) {
  const sizes = size(
    { jobs: 300, holdMs: 2000, maxConcurrentRuns: 250, seconds: 30 },
    { jobs: 12, holdMs: 300, maxConcurrentRuns: 3, seconds: 5 },
  );
  const row = await replicaShares(url, schema, sizes);
  rows.push({
    figure: `replicas share the work: ${sizes.jobs} per-second jobs holding ${sizes.holdMs} ms, MAX_CONCURRENT_RUNS=${sizes.maxConcurrentRuns}, ${sizes.seconds} s`,
    ...row,
    target:
      "1 replica runs ~40%, the rest missed at capacity; 3 run 100%, p99 start delay ≤ 50 ms, each share 23–43%; no slot twice, across a SIGKILL",
  });
}

function table(): string {
  const header = "| figure | runner | baseline (same run) | target | met |\n| --- | --- | --- | --- | --- |";
  // Short mode's sizes are too small for the targets to mean anything.
  const mark = (m: boolean | undefined) => (m === undefined || SHORT ? "—" : m ? "yes" : "**no**");
  return [
    header,
    ...rows.map((r) => `| ${r.figure} | ${r.runner} | ${r.baseline} | ${r.target} | ${mark(r.met)} |`),
  ].join("\n");
}

/** The machine, as RESULTS.md reports it. */
function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${availableParallelism()} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}`;
}

const FIGURES_START = "<!-- figures: written by npm run bench -->";
const FIGURES_END = "<!-- end of figures -->";

/** Replace the figures in RESULTS.md, keeping what people wrote around them (the notes). */
function writeResults(figures: string): void {
  const file = resolve(HERE, "../RESULTS.md");
  const block = `${FIGURES_START}\n${figures}\n${FIGURES_END}`;
  let text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const from = text.indexOf(FIGURES_START);
  const to = text.indexOf(FIGURES_END);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + FIGURES_END.length);
  else text = `# Benchmark results\n\n${block}\n`;
  writeFileSync(file, text);
}

async function main() {
  let url = process.env.BENCH_DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), "runner-bench-db-"));
    // As root the embedded server runs as the postgres user, which must reach this directory.
    chmodSync(dir, 0o755);
    // Over TCP: the bench workers connect with plain postgres(url), which takes no socket directory.
    const embedded = await startEmbedded(dir, () => {}, { tcp: true });
    url = embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [row] = await sql<{ server_version: string }[]>`show server_version`;
  const pgVersion = row!.server_version;
  const started = Date.now();
  const steps: [string, () => Promise<void>][] = [
    ["fire delay, one job", () => fireOne(url!)],
    ["fan-out 1,000", () => fanOut(url!, size(1000, 100), 20, 0)],
    ["fan-out 10,000", () => fanOut(url!, size(10_000, 200), 150, 250)],
    ["bookkeeping", () => bookkeeping(url!)],
    ["sustained fan-out", () => sustained(url!)],
    ["idle cost", () => idle(url!)],
    ["100000 jobs", () => hundredThousand(url!)],
    ["start and stop", () => startAndStop(url!)],
    ["scrape", () => scrape(url!)],
    ["console pages", () => consolePages(url!)],
    ["scale-out", () => scale(url!)],
    ["slot ledger", () => ledgerCost(url!)],
    [
      "overload",
      async () => {
        const args = size(
          { jobs: 30_000, keep: 5_000, overloadSeconds: 30, recoverSeconds: 20 },
          { jobs: 400, keep: 100, overloadSeconds: 3, recoverSeconds: 4 },
        );
        const row = await overloadRow(url!, schema("overload"), args);
        // Bounded: MAX_CONCURRENT_RUNS (20,000 by default) runs, claimed slots and unwritten outcomes at most.
        rows.push({
          ...row,
          target: "memory bounded; slots beyond the rate missed, each recorded once; recovers by itself",
        });
      },
    ],
    ["replica shares", () => shares(url!)],
    [
      "failover simulation",
      async () => {
        rows.push(
          await failoverRow(
            url!,
            schema("failover"),
            size(
              { replicas: 10, jobs: 50_000, seconds: 20, startupMs: 600_000, settleMs: 10_000 },
              { replicas: 3, jobs: 600, seconds: 3, startupMs: 60_000, settleMs: 1000 },
            ),
          ),
        );
      },
    ],
  ];
  try {
    for (const [name, step] of steps) {
      if (ONLY && !ONLY.includes(name)) continue;
      const stepStarted = Date.now();
      process.stderr.write(`bench: ${name}...`);
      await step();
      process.stderr.write(` ${((Date.now() - stepStarted) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    for (const name of schemas) await sql`drop schema if exists ${sql(name)} cascade`.catch(() => {});
    await sql.end();
    await stopEmbedded();
  }
  const database = process.env.BENCH_DATABASE_URL ? "BENCH_DATABASE_URL" : "embedded";
  const about = [
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    machine(),
    `Node ${process.version}`,
    `PostgreSQL ${pgVersion} (${database})`,
    SHORT ? "SHORT mode (tiny sizes, figures not meaningful)" : `${RUNS} runs per figure: median (range)`,
    `${((Date.now() - started) / 1000).toFixed(0)} s`,
  ].join("; ");
  console.log(`${table()}\n\n${about}\n`);
  if (!SHORT && !ONLY) writeResults(`${about}.\n\n${table()}`);
}
void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
