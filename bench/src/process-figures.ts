/** Figures that need whole `runner` processes: start and stop, and scale-out across replicas. */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import postgres from "postgres";
import { freePort, jobsModule, ROOT, sleep } from "./lib.js";
import { percentile } from "./stats.js";

const BIN = resolve(ROOT, "bin/runner");

export function startRunner(env: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [BIN, "run", ...args], {
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: "warn",
      RUN_RETENTION_DAYS: "0",
      HTTP_HOST: "127.0.0.1",
      ...env,
    },
    stdio: "ignore",
  });
}

/** A child killed by a signal has no exit code, only a signal code: either means it is gone. */
export const exited = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
  );

/** Process start to the first /readyz 200, and SIGTERM to exit with nothing running (ms). */
export async function startStop(url: string, schema: string): Promise<{ startMs: number; stopMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = startRunner({ DATABASE_URL: url, DATABASE_SCHEMA: schema, HTTP_PORT: String(port) });
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (performance.now() - started > 30_000) throw new Error("runner never became ready");
    await sleep(5);
  }
  const startMs = performance.now() - started;
  const stopping = performance.now();
  child.kill("SIGTERM");
  await exited(child);
  return { startMs, stopMs: performance.now() - stopping };
}

export interface ScaleOut {
  replicas: number;
  /** Slots in the window with a first attempt, of `expected`. */
  slots: number;
  expected: number;
  /** Slots with more than one row (attempt 1 is unique, so these would be retries or worse). */
  duplicates: number;
  /** First attempts that did not succeed (interrupted, abandoned...). */
  failed: number;
  /** How many slots each replica ran. */
  perReplica: number[];
  /**
   * Handler start minus the slot's instant, ms, as each handler measured it: p50 and p99 of each
   * third of the window (one process start per figure is what the time allows; the thirds show
   * how steady it was).
   */
  p50: number[];
  p99: number[];
}

/**
 * N per-second jobs for D seconds on R replicas: every slot exactly once, and the fire delay per
 * slot. Each handler returns its own start delay, which lands in job_runs.result: started_at is
 * the instant itself when the slot was claimed ahead, so it says nothing about the delay.
 */
export async function scaleOut(
  url: string,
  schema: string,
  jobs: number,
  seconds: number,
  replicas: number,
): Promise<ScaleOut> {
  const module = jobsModule(
    jobs,
    `(_, i) => ({
  name: "tick-" + i, schedule: "* * * * * *", catchUp: "none", overlap: "allow",
  run: (ctx) => ({ delay_ms: now() - ctx.scheduledFor.getTime() }),
})`,
  );
  const children = Array.from({ length: replicas }, (_, i) =>
    startRunner(
      { DATABASE_URL: url, DATABASE_SCHEMA: schema, HTTP_PORT: "0", JOB_RUNNER_ID: `replica-${i}` },
      ["--jobs", module, "--interval", "5"],
    ),
  );
  // Start-up (migrations, registering the jobs) before the measured window; tiny sizes start fast.
  await sleep(jobs > 100 ? 3000 : 1500);
  const from = new Date(Math.ceil(Date.now() / 1000) * 1000);
  await sleep(seconds * 1000);
  const to = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  await sleep(1500);
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map(exited));
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  const window = sql`scheduled_for between ${from} and ${to}`;
  const rows = await sql<{ delay: number | null; status: string; runner_id: string; at: Date }[]>`
    select (result->>'delay_ms')::float8 as delay, status, runner_id, scheduled_for as at from job_runs
    where ${window} and attempt = 1`;
  const [dupes] = await sql<{ n: number }[]>`
    select count(*)::int as n from (select 1 from job_runs where ${window}
    group by job_name, scheduled_for having count(*) > 1) d`;
  await sql.end();
  const span = to.getTime() - from.getTime() + 1000;
  const parts = Math.min(3, span / 1000);
  const thirds = Array.from({ length: parts }, (_, i) =>
    rows.flatMap((r) => {
      const part = Math.floor(((r.at.getTime() - from.getTime()) / span) * parts);
      return part === i && r.delay !== null ? [r.delay] : [];
    }),
  );
  const perReplica = Array.from(
    { length: replicas },
    (_, i) => rows.filter((r) => r.runner_id === `replica-${i}`).length,
  );
  return {
    replicas,
    slots: rows.length,
    expected: jobs * ((to.getTime() - from.getTime()) / 1000 + 1),
    duplicates: dupes!.n,
    failed: rows.filter((r) => r.status !== "succeeded").length,
    perReplica,
    p50: thirds.map((delays) => percentile(delays, 50)),
    p99: thirds.map((delays) => percentile(delays, 99)),
  };
}
