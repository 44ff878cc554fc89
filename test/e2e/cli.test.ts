import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, runCli } from "../helpers/process.js";

const db = await testDatabase("cli");
const dbEnv = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "e2e" };

const jobs = jobsModule(`
import { writeFileSync } from "node:fs";
export default [
  { name: "ok", schedule: "0 3 * * *", run: async (ctx) => ({ params: ctx.params, trigger: ctx.trigger }) },
  { name: "failing", schedule: "0 4 * * *", run: async () => { throw new Error("disk full"); } },
];`);

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe("runner CLI (real processes)", () => {
  it("prints help for every command and exits 0", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "run",
      "migrate",
      "jobs",
      "status",
      "history",
      "trigger",
      "pause",
      "resume",
      "check",
    ]) {
      expect(help.stdout).toContain(command);
    }
    const runHelp = await runCli(["run", "--help"]);
    expect(runHelp.code).toBe(0);
    for (const flag of ["--interval", "--job", "--once", "--param", "--jobs"])
      expect(runHelp.stdout).toContain(flag);
  });

  it("exits 2 with one line per configuration problem and no stack trace", async () => {
    const result = await runCli(["check"], { JOB_HEARTBEAT_TTL_SECONDS: "abc", RUNNER_ENV: "prod" });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([
      'runner: JOB_HEARTBEAT_TTL_SECONDS: expected an integer from 1 to 86400 (got "abc")',
      expect.stringMatching(/^runner: RUNNER_ENV: .*"prod"/),
    ]);
    noStack(result.stderr);
  });

  it("exits 2 naming the job and the cron expression of a bad job", async () => {
    const bad = jobsModule(`export default [{ name: "nightly", schedule: "0 25 * * *", run() {} }];`);
    const result = await runCli(["check", "--jobs", bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nightly": schedule: invalid cron expression "0 25 * * *"');
    noStack(result.stderr);
  });

  it("exits 2 on a bad flag value and on an unknown flag", async () => {
    expect((await runCli(["--interval", "0", "--jobs", jobs])).code).toBe(2);
    const unknown = await runCli(["--frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--frobnicate");
  });

  it("exits 2 for an unknown job and lists the known ones", async () => {
    const result = await runCli(["--once", "--job", "nope", "--jobs", jobs], dbEnv);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('runner: unknown job "nope"; known jobs: failing, ok, prune_runs');
  });

  it("checks the configuration and lists jobs without a database", async () => {
    const check = await runCli(["check", "--jobs", jobs], {
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("configuration ok: 3 job(s): failing, ok, prune_runs");
    const list = await runCli(["jobs", "--json", "--jobs", jobs]);
    expect(list.code).toBe(0);
    const parsed = JSON.parse(list.stdout) as {
      jobs: { name: string; schedule: string; timezone: string; next_run_at: string }[];
    };
    expect(parsed.jobs.find((j) => j.name === "ok")).toMatchObject({
      schedule: "0 3 * * *",
      timezone: "UTC",
      next_run_at: expect.stringMatching(/T03:00:00.000Z$/),
    });
  });

  it("--once --job runs the job now with its params and exits 0; a failing run exits 1", async () => {
    const ok = await runCli(["--once", "--job", "ok", "--param", "day=2026-01-01", "--jobs", jobs], dbEnv);
    expect(ok.code).toBe(0);
    const [row] =
      await db.sql`select trigger, status, result from job_runs where job_name = 'ok' order by id desc limit 1`;
    expect(row).toEqual({
      trigger: "once",
      status: "succeeded",
      result: { params: { day: "2026-01-01" }, trigger: "once" },
    });
    const failed = await runCli(["--once", "--job", "failing", "--jobs", jobs], dbEnv);
    expect(failed.code).toBe(1);
    const [failedRow] =
      await db.sql`select status, error from job_runs where job_name = 'failing' order by id desc limit 1`;
    expect(failedRow).toEqual({ status: "failed", error: "disk full" });
    const lines = failed.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const end = lines.find((l) => l.msg?.startsWith("run failed"));
    expect(end).toMatchObject({
      job_name: "failing",
      runner_id: "e2e",
      attempt: 1,
      status: "failed",
      err: { message: "disk full" },
    });
    expect(typeof end.duration_ms).toBe("number");
    expect(end.err.stack).toContain("disk full");
  });

  it("exits 3 when the database stays unreachable, naming the host but never the password", async () => {
    const result = await runCli(["migrate"], {
      DATABASE_URL: "postgres://app:s3cr3t-pw@127.0.0.1:1/app",
      DATABASE_STARTUP_TIMEOUT_SECONDS: "2",
    });
    expect(result.code).toBe(3);
    const final = result.stderr.split("\n").filter((line) => line.startsWith("runner: "));
    expect(final).toEqual([
      expect.stringMatching(/^runner: database 127\.0\.0\.1:1\/app unreachable for 2s: /),
    ]);
    // The retries were logged (to stderr, since only the daemon logs to stdout).
    expect(result.stderr).toContain('"msg":"database unreachable');
    expect(result.stdout + result.stderr).not.toContain("s3cr3t-pw");
    noStack(result.stderr);
  });

  it("migrate is idempotent", async () => {
    const first = await runCli(["migrate"], dbEnv);
    const second = await runCli(["migrate"], dbEnv);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stdout).not.toContain("migrations applied");
  });
});
