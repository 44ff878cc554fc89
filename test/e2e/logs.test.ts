import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("logs");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "logs-test" };
const jobs = jobsModule(`
export default [
  { name: "talker", schedule: "0 6 * * *", run: async (ctx) => { ctx.log.info("hello from %s", ctx.jobName); ctx.log.error("oops"); } },
];`);
const cli = (...args: string[]) => runCli([...args, "--jobs", jobs], env);

describe("runner logs (real processes)", { timeout: 120_000 }, () => {
  it("prints a finished run's kept lines; exits 2 on a bad or unknown run id", async () => {
    expect((await cli("--once", "--job", "talker")).code).toBe(0);
    const { id } = (
      await db.sql<{ id: string }[]>`select id::text from job_runs where job_name = 'talker'`
    )[0]!;
    const out = await cli("logs", id);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^\S+Z log {4}info hello from talker\n\S+Z log {4}error oops\n$/);
    const json = await cli("logs", id, "--json");
    expect(
      json.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).line),
    ).toEqual(["info hello from talker", "error oops"]);
    const bad = await cli("logs", "12; drop table job_runs");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('run id "12; drop table job_runs": expected a number');
    const unknown = await cli("logs", "987654321");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("run 987654321 not found");
  });

  it("--follow streams a running run's lines, written by another replica, until it finishes", async () => {
    // Another replica's run: only the database links it to this command.
    const { id } = (
      await db.sql<{ id: string }[]>`
        insert into job_runs (job_name, trigger, status, runner_id) values ('talker', 'manual', 'running', 'elsewhere')
        returning id::text`
    )[0]!;
    // A terminal escape (clear screen) in a job's output is shown, never acted on.
    await db.sql`insert into job_run_output (run_id, seq, at, stream, line) values (${id}, 1, now(), 'stdout', ${"first\u001b[2J"})`;
    const follow = new RunnerProcess(["logs", id, "--follow", "--jobs", jobs], env);
    await waitFor(() => follow.stdout.includes("first"), 60_000, "the first line");
    await db.sql`insert into job_run_output (run_id, seq, at, stream, line) values (${id}, 2, now(), 'stderr', 'second')`;
    await waitFor(() => follow.stdout.includes("second"), 30_000, "the second line");
    await db.sql`update job_runs set status = 'succeeded', finished_at = now() where id = ${id}`;
    await db.sql`insert into job_run_output (run_id, seq, at, stream, line) values (${id}, 3, now(), 'stdout', 'last')`;
    const done = await follow.exited;
    expect(done.code).toBe(0);
    expect(
      done.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(/\s+/).slice(1).join(" ")),
    ).toEqual(["stdout first\\x1b[2J", "stderr second", "stdout last"]);
    expect(done.stdout).not.toContain("\u001b");
  });
});
