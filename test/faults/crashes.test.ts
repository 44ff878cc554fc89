import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("crash");
const env = (id: string) => ({
  DATABASE_URL: db.url,
  DATABASE_SCHEMA: db.schema,
  JOB_RUNNER_ID: id,
  RUN_RETENTION_DAYS: "0",
});

const jobs = jobsModule(`
export default [
  { name: "tick", schedule: "* * * * * *", catchUp: "none", run: () => "tock" },
  { name: "long", schedule: "@yearly", run: () => new Promise((resolve) => setTimeout(resolve, 60_000)) },
  { name: "blocker", schedule: "@yearly", run: () => { const end = Date.now() + 2500; while (Date.now() < end) {} return "unblocked"; } },
  { name: "leaker", schedule: "@yearly", run: () => { Promise.reject(new Error("nobody awaits me")); return "returned"; } },
  { name: "thrower", schedule: "@yearly", run: () => { throw "a string, not an Error"; } },
  { name: "never", schedule: "@yearly", timeout: "1s", run: () => new Promise(() => {}) },
];`);

async function trigger(name: string) {
  await db.sql`insert into job_triggers (job_name, requested_by) values (${name}, 'test')`;
}

async function finishedRun(name: string) {
  return waitFor(
    async () => {
      const [row] =
        await db.sql`select status, error, result, duration_ms from job_runs where job_name = ${name} and status <> 'running' order by id desc limit 1`;
      return row;
    },
    15_000,
    `a finished run of ${name}`,
  );
}

describe("crashes and misbehaving handlers", () => {
  it("SIGKILL during a run: the next start marks it abandoned when its lease expires", async () => {
    const first = new RunnerProcess(["--interval", "1", "--jobs", jobs], env("doomed"));
    await first.waitForLog((l) => l.msg === "runner started");
    await trigger("long");
    const started = await first.waitForLog((l) => l.msg === "run started" && l.job_name === "long");
    first.child.kill("SIGKILL");
    await first.exited;
    const second = new RunnerProcess(["--interval", "1", "--jobs", jobs], env("reborn"));
    try {
      const abandoned = await second.waitForLog((l) => String(l.msg).startsWith("run abandoned"), 15_000);
      expect(abandoned).toMatchObject({
        job_name: "long",
        run_id: started.run_id,
        dead_runner_id: "doomed",
        status: "abandoned",
      });
      const [row] =
        await db.sql`select status, error, finished_at from job_runs where id = ${String(started.run_id)}`;
      expect(row!.status).toBe("abandoned");
      expect(row!.finished_at).toBeInstanceOf(Date);
      const [beat] =
        await db.sql`select consecutive_failures, last_error from job_heartbeats where name = 'long'`;
      expect(beat!.consecutive_failures).toBe(1);
      expect(beat!.last_error).toMatch(/doomed stopped renewing its lease/);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("records misbehaving handlers with a useful error while everything else keeps running", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], env("sturdy"));
    try {
      await daemon.waitForLog((l) => l.msg === "runner started");
      for (const name of ["blocker", "leaker", "thrower", "never"]) await trigger(name);
      expect(await finishedRun("blocker")).toMatchObject({ status: "succeeded", result: "unblocked" });
      // The handler spins 2,500 ms by Date.now(); the run's duration is measured on another clock.
      expect((await finishedRun("blocker")).duration_ms).toBeGreaterThanOrEqual(2450);
      expect(await finishedRun("leaker")).toMatchObject({ status: "succeeded", result: "returned" });
      expect(await finishedRun("thrower")).toMatchObject({
        status: "failed",
        error: "a string, not an Error",
      });
      expect(await finishedRun("never")).toMatchObject({
        status: "timed_out",
        error: "timed out after 1000 ms",
      });
      // The leaked rejection was reported, not fatal.
      expect(daemon.stderr).toContain("nobody awaits me");
      // Scheduling went on: ticks after all of that.
      const after = Date.now();
      await daemon.waitForLog(
        (l) => l.msg === "run finished" && l.job_name === "tick" && Date.parse(String(l.time)) > after + 1000,
      );
      expect(daemon.child.exitCode).toBeNull();
    } finally {
      daemon.child.kill("SIGTERM");
    }
    expect((await daemon.exited).code).toBe(0);
  });
});
