import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("retrycrash");
/** Every handler call, from any process, one JSON line each: what proves "exactly once". */
const ledger = join(mkdtempSync(join(tmpdir(), "runner-retry-ledger-")), "calls.jsonl");
writeFileSync(ledger, "");
const env = (id: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATABASE_SCHEMA: db.schema,
  JOB_RUNNER_ID: id,
  RETRY_LEDGER: ledger,
  ...extra,
});

// The first attempt fails; its retry, 5 s later, succeeds.
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
const failsOnce = (name) => ({
  name,
  schedule: "@yearly",
  retries: { attempts: 2, backoff: "fixed", initial: "5s" },
  run: (ctx) => {
    appendFileSync(process.env.RETRY_LEDGER, JSON.stringify({ job: name, attempt: ctx.attempt, key: ctx.idempotencyKey, pid: process.pid }) + "\\n");
    if (ctx.attempt === 1) throw new Error("first attempt fails");
    return "second attempt ok";
  },
});
export default [failsOnce("killed"), failsOnce("stopped"), failsOnce("unrecorded")];`);

const daemon = (id: string, extra: Record<string, string> = {}) =>
  new RunnerProcess(["--interval", "1", "--jobs", jobs], env(id, extra));

const calls = (job: string) =>
  readFileSync(ledger, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { job: string; attempt: number; key: string; pid: number })
    .filter((call) => call.job === job);

const runsOf = (job: string) =>
  db.sql<
    { id: string; attempt: number; status: string; trigger: string; runner_id: string; started_at: Date }[]
  >`
    select id::text, attempt, status, trigger, runner_id, started_at from job_runs where job_name = ${job} order by id`;

/** Start a daemon, trigger `job` and wait until its first attempt failed and the retry is scheduled. */
async function failFirstAttempt(first: RunnerProcess, job: string) {
  await first.waitForLog((l) => l.msg === "runner started", 30_000);
  await db.sql`insert into job_triggers (job_name, requested_by) values (${job}, 'test')`;
  const scheduled = await first.waitForLog((l) => l.msg === "retry scheduled" && l.job_name === job);
  // The retry's row is written before the attempt's outcome (a crash between the two leaves the
  // attempt to the reaper, abandoned): the crash tested here comes after both.
  await waitFor(
    async () => (await runsOf(job))[0]?.status === "failed",
    10_000,
    "the first attempt's outcome",
  );
  return { retryOf: String(scheduled.retry_of), dueAt: new Date(String(scheduled.due_at)) };
}

async function stopAll(...daemons: RunnerProcess[]) {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill("SIGTERM");
  return Promise.all(daemons.map((d) => d.exited));
}

describe("retries survive their replica (real processes)", { timeout: 120_000 }, () => {
  it("SIGKILL during the backoff: of two daemons started after, exactly one runs the retry, not before its time", async () => {
    const doomed = daemon("doomed");
    const { retryOf, dueAt } = await failFirstAttempt(doomed, "killed");
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const [pending] = await db.sql`select attempt, scheduled_by from job_retries where retry_of = ${retryOf}`;
    expect(pending).toEqual({ attempt: 2, scheduled_by: "doomed" });

    // Two heirs race for it; debug logs say which one found it taken.
    const heirs = [daemon("heir-1", { LOG_LEVEL: "debug" }), daemon("heir-2", { LOG_LEVEL: "debug" })];
    try {
      const seen = (heir: RunnerProcess) =>
        heir
          .logs()
          .find(
            (l) => l.retry_of === retryOf && /^retry (taken over from|already taken)/.test(String(l.msg)),
          );
      await waitFor(() => heirs.every(seen), 30_000, "both heirs' takeover timers");
      const verdicts = heirs.map((heir) => String(seen(heir)!.msg)).sort();
      expect(verdicts).toEqual(["retry already taken", "retry taken over from doomed"]);
      const winner = heirs.find((heir) => seen(heir)!.msg === "retry taken over from doomed")!;
      await winner.waitForLog((l) => l.msg === "run finished" && l.job_name === "killed" && l.attempt === 2);
      const rows = await runsOf("killed");
      expect(rows).toMatchObject([
        { attempt: 1, status: "failed", trigger: "manual", runner_id: "doomed" },
        { attempt: 2, status: "succeeded", trigger: "retry", runner_id: seen(winner)!.runner_id },
      ]);
      expect(rows[1]!.started_at.getTime()).toBeGreaterThanOrEqual(dueAt.getTime());
      expect(await db.sql`select 1 from job_retries where retry_of = ${retryOf}`).toHaveLength(0);
      // The handler ran twice in all: once per attempt, with the first attempt's key.
      const made = calls("killed");
      expect(made.map((c) => c.attempt)).toEqual([1, 2]);
      expect(new Set(made.map((c) => c.key)).size).toBe(1);
      expect(made[1]!.pid).toBe(winner.child.pid);
    } finally {
      const exits = await stopAll(...heirs);
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
    }
  });

  it("SIGTERM during the backoff loses nothing: the process exits 0 without running it, and started again it runs the retry at its time", async () => {
    const first = daemon("rolling");
    const { retryOf, dueAt } = await failFirstAttempt(first, "stopped");
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    // Stopped during the backoff: the retry did not run early, and its row is still there.
    expect(calls("stopped").map((c) => c.attempt)).toEqual([1]);
    const [pending] = await db.sql`select attempt, scheduled_by from job_retries where retry_of = ${retryOf}`;
    expect(pending).toEqual({ attempt: 2, scheduled_by: "rolling" });

    const again = daemon("rolling");
    try {
      await again.waitForLog(
        (l) => l.msg === "run finished" && l.job_name === "stopped" && l.attempt === 2,
        30_000,
      );
      const rows = await runsOf("stopped");
      expect(rows).toMatchObject([
        { attempt: 1, status: "failed", runner_id: "rolling" },
        { attempt: 2, status: "succeeded", trigger: "retry", runner_id: "rolling" },
      ]);
      expect(rows[1]!.started_at.getTime()).toBeGreaterThanOrEqual(dueAt.getTime());
      expect(calls("stopped").map((c) => c.attempt)).toEqual([1, 2]);
      expect(calls("stopped")[1]!.pid).toBe(again.child.pid);
      expect(await db.sql`select 1 from job_retries where retry_of = ${retryOf}`).toHaveLength(0);
    } finally {
      expect((await stopAll(again))[0]!.code).toBe(0);
    }
  });
  it("SIGKILL before the failed attempt's outcome is written: its retry's row is there already; another replica runs it once, and the attempt is reaped abandoned", async () => {
    const doomed = daemon("unrecorded-doomed");
    await doomed.waitForLog((l) => l.msg === "runner started", 30_000);
    // The outcome statement also upserts the job's heartbeat row: holding that row's lock holds
    // the outcome back, as a slow or lost database answer would.
    await db.sql.begin(async (locker) => {
      const pid = (await locker`select pg_backend_pid() as pid`)[0]!.pid as number;
      await locker`select 1 from job_heartbeats where name = 'unrecorded' for update`;
      const blocked = () =>
        db.sql`select pid from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`;
      await db.sql`insert into job_triggers (job_name, requested_by) values ('unrecorded', 'test')`;
      await waitFor(async () => (await blocked()).length > 0, 30_000, "the outcome to wait for the lock");
      // The outcome is not written (the attempt reads running), and the retry is a row already.
      const pending = await db.sql`
        select r.attempt, r.scheduled_by, j.attempt as failed_attempt, j.status as failed_status
        from job_retries r join job_runs j on j.id = r.retry_of where r.job_name = 'unrecorded'`;
      expect(pending).toEqual([
        { attempt: 2, scheduled_by: "unrecorded-doomed", failed_attempt: 1, failed_status: "running" },
      ]);
      doomed.child.kill("SIGKILL");
      await doomed.exited;
      // A dead replica's statement would still complete once the lock goes; end its session, as
      // a lost node's connection ends.
      await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`;
      await waitFor(async () => (await blocked()).length === 0, 10_000, "the dead replica's session to end");
    });
    expect(calls("unrecorded").map((c) => c.attempt)).toEqual([1]);

    const heir = daemon("unrecorded-heir");
    try {
      await heir.waitForLog(
        (l) => l.msg === "run finished" && l.job_name === "unrecorded" && l.attempt === 2,
        30_000,
      );
      // The failed attempt's lease (5 s) runs out and the heir's reaper ends it.
      await waitFor(
        async () => (await runsOf("unrecorded"))[0]!.status === "abandoned",
        30_000,
        "the reaper",
      );
      expect(await runsOf("unrecorded")).toMatchObject([
        { attempt: 1, status: "abandoned", trigger: "manual", runner_id: "unrecorded-doomed" },
        { attempt: 2, status: "succeeded", trigger: "retry", runner_id: "unrecorded-heir" },
      ]);
      expect(calls("unrecorded").map((c) => c.attempt)).toEqual([1, 2]);
      expect(await db.sql`select 1 from job_retries where job_name = 'unrecorded'`).toHaveLength(0);
    } finally {
      expect((await stopAll(heir))[0]!.code).toBe(0);
    }
  });
});
