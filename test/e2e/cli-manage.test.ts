import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";

const db = await testDatabase("manage");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "cli-test" };
const jobs = jobsModule(`
export default [
  { name: "report", schedule: "0 6 * * *", run: async (ctx) => ({ day: ctx.params.day ?? null }) },
  { name: "flaky", schedule: "0 7 * * *", run: async () => { throw new Error("upstream 503"); } },
];`);
const cli = (...args: string[]) => runCli([...args, "--jobs", jobs], env);

// Each test starts up to eight node processes; on a busy two-core machine one takes seconds to
// start, so the default 30 s is not enough (seen: every test of this file timed out at load 20).
describe("management commands (real processes)", { timeout: 120_000 }, () => {
  it("status shows per-job state as a table and as JSON", async () => {
    expect((await cli("--once", "--job", "report")).code).toBe(0);
    expect((await cli("--once", "--job", "flaky")).code).toBe(1);
    const table = await cli("status");
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^NAME\s+LAST HEARTBEAT\s+RUNNER\s+LAST SUCCESS\s+FAILURES\s+NEXT RETRY\s+NEXT RUN\s+EXPECTED LAST RUN\s+OVERDUE\s+PAUSED\s+RUNNING\s+PROGRESS\s+LAST ERROR$/,
    );
    expect(table.stdout).toMatch(
      /flaky\s+\S+\s+cli-test\s+-\s+1\s+-\s+\S+T07:00:00.000Z\s+\S+T07:00:00.000Z\s+0s\s+no\s+0\s+-\s+upstream 503/,
    );
    const json = JSON.parse((await cli("status", "--json")).stdout) as { jobs: Record<string, unknown>[] };
    expect(json.jobs.find((j) => j.name === "report")).toMatchObject({
      runner_id: "cli-test",
      consecutive_failures: 0,
      last_error: null,
      paused: false,
      running: 0,
      next_run_at: expect.stringMatching(/T06:00:00.000Z$/),
      last_success_at: expect.any(String),
      last_heartbeat: expect.any(String),
      last_error_at: null,
    });
    expect(json.jobs.map((j) => j.name)).toContain("jobs-runner");
  });

  it("history lists the newest runs first, with --limit, and exits 2 for an unknown job", async () => {
    await cli("--once", "--job", "report", "--param", "day=tuesday");
    const runs = JSON.parse((await cli("history", "report", "--limit", "1", "--json")).stdout) as {
      runs: Record<string, unknown>[];
    };
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({
      job_name: "report",
      trigger: "once",
      status: "succeeded",
      result: { day: "tuesday" },
      params: { day: "tuesday" },
    });
    const table = await cli("history", "report");
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+TRIGGER\s+ATTEMPT/);
    const unknown = await cli("history", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown job "nope"; known jobs: flaky, prune_runs, report');
    expect((await cli("history", "report", "--limit", "zero")).code).toBe(2);
  });

  it("pause and resume persist, and trigger reaches a running daemon within one loop", async () => {
    expect((await cli("pause", "report")).stdout.trim()).toBe("report paused");
    let status = JSON.parse((await cli("status", "--json")).stdout) as {
      jobs: { name: string; paused: boolean }[];
    };
    expect(status.jobs.find((j) => j.name === "report")!.paused).toBe(true);
    expect((await cli("resume", "report")).code).toBe(0);
    status = JSON.parse((await cli("status", "--json")).stdout);
    expect(status.jobs.find((j) => j.name === "report")!.paused).toBe(false);
    expect((await cli("pause", "nope")).code).toBe(2);

    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      ...env,
      JOB_RUNNER_ID: "daemon",
    });
    try {
      await daemon.waitForLog((l) => l.msg === "runner started");
      const trigger = await cli("trigger", "report", "--param", "day=friday");
      expect(trigger.code).toBe(0);
      expect(trigger.stdout).toMatch(/^trigger \d+ for report queued/);
      const finished = await daemon.waitForLog(
        (l) => l.msg === "run finished" && l.job_name === "report",
        10_000,
      );
      expect(finished.trigger).toBe("manual");
      const [row] = await db.sql`select result from job_runs where id = ${String(finished.run_id)}`;
      expect(row!.result).toEqual({ day: "friday" });
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }
    expect((await cli("trigger", "nope")).code).toBe(2);
  });
});
