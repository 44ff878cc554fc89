import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";

const db = await testDatabase("published");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema };
// The daemon's jobs file; the management commands below are never given it.
const jobsFile = jobsModule(
  `jobs:\n  - name: hello\n    schedule: "0 6 * * *"\n    command:\n      argv: ["echo", "hello"]\n`,
  "jobs.yaml",
);
const cli = (...args: string[]) => runCli(args, { ...env, JOB_RUNNER_ID: "operator" });

describe("management commands know the jobs a running daemon publishes, without --jobs", () => {
  it("trigger, pause, resume, status and history work on a job only the daemon's jobs file defines", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobsFile], {
      ...env,
      JOB_RUNNER_ID: "replica-a",
    });
    try {
      await daemon.waitForLog((l) => l.msg === "runner started");

      const trigger = await cli("trigger", "hello");
      expect(trigger.stderr).not.toContain("warning");
      expect(trigger.code).toBe(0);
      // The daemon's interval (1 s), not the CLI's default of 60 s.
      expect(trigger.stdout.trim()).toMatch(
        /^trigger \d+ for hello queued; a running runner starts it within one loop \(1s\)$/,
      );
      const finished = await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === "hello");
      expect(finished).toMatchObject({ trigger: "manual", status: "succeeded" });

      const pause = await cli("pause", "hello");
      expect(pause.stdout.trim()).toBe("hello paused");
      const [state] = await db.sql`select paused from job_state where job_name = 'hello'`;
      expect(state!.paused).toBe(true);
      expect((await cli("resume", "hello")).stdout.trim()).toBe("hello resumed");

      const status = await cli("status", "--json");
      expect(status.code).toBe(0);
      const hello = (JSON.parse(status.stdout) as { jobs: Record<string, unknown>[] }).jobs.find(
        (job) => job.name === "hello",
      );
      expect(hello).toMatchObject({
        schedule: "0 6 * * *",
        timezone: "UTC",
        paused: false,
        next_run_at: expect.stringMatching(/T06:00:00.000Z$/),
        replicas: ["replica-a"],
      });
      expect((await cli("status")).stdout).toMatch(/\nhello\s.*T06:00:00.000Z\s+no\s/);

      const history = await cli("history", "hello", "--json");
      expect(history.code).toBe(0);
      expect((JSON.parse(history.stdout) as { runs: unknown[] }).runs).toEqual([
        expect.objectContaining({ job_name: "hello", trigger: "manual", status: "succeeded" }),
      ]);

      const unknown = await cli("trigger", "nope");
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown job "nope"; known jobs: hello, prune_runs/);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }

    // The only replica that ran it has stopped: the request is queued, with a warning.
    const orphan = await cli("trigger", "hello");
    expect(orphan.code).toBe(0);
    expect(orphan.stdout.trim()).toMatch(/^trigger \d+ for hello queued$/);
    expect(orphan.stderr).toMatch(
      /^warning: no live replica runs hello \(last seen \d{4}-\d\d-\d\dT[\d:.]+Z\); the request waits until one does$/m,
    );
  }, 180_000);
});
