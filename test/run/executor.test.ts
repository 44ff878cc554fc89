import { afterEach, describe, expect, it } from "vitest";
import type { Daemon as Runner } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("exec");
let current: Runner | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

function make(env: Record<string, string> = {}) {
  const made = testRunner(db.sql, env);
  current = made.runner;
  return made;
}

const runsOf = (name: string) =>
  db.sql`select id::text, trigger, attempt, status, error, result, duration_ms, scheduled_for from job_runs where job_name = ${name} order by id`;

describe("executor", () => {
  it("writes the run row before the handler starts", async () => {
    const { runner } = make();
    let seen: unknown;
    runner.registerJob({
      name: "write-first",
      schedule: "@yearly",
      run: async (ctx) => {
        [seen] = await db.sql`select status, runner_id from job_runs where id = ${ctx.runId}`;
        return { ok: true };
      },
    });
    const run = await runner.triggerJob("write-first");
    expect(await run.done).toMatchObject({ status: "succeeded" });
    expect(seen).toEqual({ status: "running", runner_id: "test-runner" });
    expect(await runsOf("write-first")).toMatchObject([
      { trigger: "manual", status: "succeeded", result: { ok: true } },
    ]);
  });

  it("records timed_out at the deadline even when the handler ignores its signal", async () => {
    const { runner } = make();
    let aborted = false;
    runner.registerJob({
      name: "stubborn",
      schedule: "@yearly",
      timeout: "300ms",
      run: (ctx) => {
        ctx.signal.addEventListener("abort", () => {
          aborted = true;
        });
        return new Promise(() => {});
      },
    });
    const started = Date.now();
    const outcome = await (await runner.triggerJob("stubborn")).done;
    expect(outcome.status).toBe("timed_out");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(aborted).toBe(true);
    const [row] = await runsOf("stubborn");
    expect(row).toMatchObject({ status: "timed_out", error: "timed out after 300 ms" });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(290);
  });

  it("retries with backoff, each attempt its own row, and resets failures on success", async () => {
    const { runner } = make();
    let calls = 0;
    runner.registerJob({
      name: "flaky",
      schedule: "@yearly",
      retries: { attempts: 3, backoff: "exponential", initial: "50ms" },
      run: () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return "fine";
      },
    });
    const outcome = await (await runner.triggerJob("flaky")).done;
    expect(outcome.status).toBe("succeeded");
    expect(await runsOf("flaky")).toMatchObject([
      { trigger: "manual", attempt: 1, status: "failed", error: "boom 1" },
      { trigger: "retry", attempt: 2, status: "failed", error: "boom 2" },
      { trigger: "retry", attempt: 3, status: "succeeded", error: null, result: "fine" },
    ]);
    const [beat] =
      await db.sql`select consecutive_failures, last_error, last_success_at from job_heartbeats where name = 'flaky'`;
    expect(beat).toMatchObject({ consecutive_failures: 0, last_error: null });
    expect(beat!.last_success_at).toBeInstanceOf(Date);
  });

  it("keeps what a failing handler attached to its error as the run's result", async () => {
    const { runner } = make();
    runner.registerJob({
      name: "exits-3",
      schedule: "@yearly",
      run: () => {
        throw Object.assign(new Error("exited with code 3: disk full"), {
          result: { exit_code: 3, stderr: "disk full\n" },
        });
      },
    });
    await (await runner.triggerJob("exits-3")).done;
    expect(await runsOf("exits-3")).toMatchObject([
      {
        status: "failed",
        error: "exited with code 3: disk full",
        result: { exit_code: 3, stderr: "disk full\n" },
      },
    ]);
  });

  it("keeps the heartbeat columns of a failing job", async () => {
    const { runner } = make();
    runner.registerJob({
      name: "broken",
      schedule: "@yearly",
      run: () => {
        throw { code: 42 };
      },
    });
    for (let i = 0; i < 2; i++) await (await runner.triggerJob("broken")).done;
    const [beat] =
      await db.sql`select runner_id, consecutive_failures, last_error, last_error_at, last_success_at from job_heartbeats where name = 'broken'`;
    expect(beat).toMatchObject({
      runner_id: "test-runner",
      consecutive_failures: 2,
      last_error: 'non-Error thrown: {"code":42}',
      last_success_at: null,
    });
    expect(beat!.last_error_at).toBeInstanceOf(Date);
  });

  it("fires on the cron instant and records a skipped slot while the previous run still goes (overlap skip)", async () => {
    const { runner } = make({ JOB_LOOP_INTERVAL_SECONDS: "60" });
    runner.registerJob({
      name: "every-second",
      schedule: "* * * * * *",
      run: (ctx) => new Promise((resolve) => setTimeout(resolve, 1500, ctx.scheduledFor?.toISOString())),
    });
    await runner.start();
    const rows = await waitFor(
      async () => {
        const r = await runsOf("every-second");
        return r.some((x) => x.status === "skipped") && r.some((x) => x.status === "succeeded")
          ? r
          : undefined;
      },
      8000,
      "a skipped and a succeeded run",
    );
    const succeeded = rows.find((r) => r.status === "succeeded")!;
    expect(succeeded.trigger).toBe("schedule");
    expect(succeeded.result).toBe(succeeded.scheduled_for.toISOString());
    expect(succeeded.scheduled_for.getMilliseconds()).toBe(0);
    expect(rows.find((r) => r.status === "skipped")!.error).toMatch(/overlap/);
  });

  it("marks runs still going at the end of the shutdown grace as interrupted", async () => {
    const { runner } = make({ SHUTDOWN_GRACE_SECONDS: "1" });
    runner.registerJob({ name: "endless", schedule: "@yearly", run: () => new Promise(() => {}) });
    await runner.start();
    const run = await runner.triggerJob("endless");
    const started = Date.now();
    await runner.stop();
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await run.done).toMatchObject({ status: "interrupted" });
    const [row] = await db.sql`select status, error from job_runs where id = ${run.runId}`;
    expect(row!.status).toBe("interrupted");
    expect(row!.error).toMatch(/shutdown/);
  });

  it("picks up a trigger requested through the database within one loop", async () => {
    const { runner } = make({ JOB_LOOP_INTERVAL_SECONDS: "1" });
    let params: unknown;
    runner.registerJob({
      name: "on-demand",
      schedule: "@yearly",
      run: (ctx) => {
        params = ctx.params;
      },
    });
    await runner.start();
    const request = await runner.store!.requestTrigger({
      jobName: "on-demand",
      params: { day: "monday" },
      trigger: "manual",
      requestedBy: "test",
    });
    const [row] = await waitFor(
      async () => {
        const r = await runsOf("on-demand");
        return r[0]?.status === "succeeded" ? r : undefined;
      },
      5000,
      "the triggered run",
    );
    expect(row!.trigger).toBe("manual");
    expect(params).toEqual({ day: "monday" });
    // The run may finish before the loop has written its id into the request: wait for both.
    const trigger = await waitFor(async () => {
      const [t] = await db.sql`select claimed_by, run_id::text from job_triggers where id = ${request.id}`;
      return t?.run_id ? t : undefined;
    });
    expect(trigger).toEqual({ claimed_by: "test-runner", run_id: row!.id });
  });

  it("writes the loop heartbeat and this replica's liveness", async () => {
    const { runner } = make({ JOB_RUNNER_ID: "replica-7" });
    await runner.start();
    const [beat] = await waitFor(() =>
      db.sql`select runner_id, last_heartbeat from job_heartbeats where name = 'jobs-runner' and runner_id = 'replica-7'`.then(
        (r) => (r.length ? r : undefined),
      ),
    );
    expect(Date.now() - beat!.last_heartbeat.getTime()).toBeLessThan(5000);
    const [replica] = await db.sql`select pid, stopped_at from job_runners where runner_id = 'replica-7'`;
    expect(replica).toEqual({ pid: process.pid, stopped_at: null });
  });
});
