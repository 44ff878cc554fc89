import { hostname, userInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, runCli } from "../helpers/process.js";

const db = await testDatabase("pausecli");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "pause-cli" };
const jobs = jobsModule(`export default [{ name: "report", schedule: "0 6 * * *", run: async () => {} }];`);
const cli = (...args: string[]) => runCli([...args, "--jobs", jobs], env);
const ME = `cli:${userInfo().username}@${hostname()}`;

describe("runner pause with a reason and an expiry (real processes)", { timeout: 120_000 }, () => {
  it("keeps reason, owner and expiry; shows them in status; refuses a bad expiry with exit 2", async () => {
    // status lists the jobs a replica has registered: one run does it.
    expect((await cli("--once", "--job", "report")).code).toBe(0);
    const past = await cli("pause", "report", "--until", "2020-01-01T00:00Z");
    expect(past.code).toBe(2);
    expect(past.stderr).toContain("--until: must be in the future");
    const both = await cli("pause", "report", "--for", "2h", "--until", "2099-01-01T00:00Z");
    expect(both.code).toBe(2);
    const paused = await cli("pause", "report", "--reason", "deploy freeze", "--for", "2h");
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^report paused until \S+Z: deploy freeze\n$/);
    const status = JSON.parse((await cli("status", "--json")).stdout) as { jobs: Record<string, unknown>[] };
    const report = status.jobs.find((j) => j.name === "report")!;
    expect(report).toMatchObject({ paused: true, paused_by: ME, paused_reason: "deploy freeze" });
    const hours = (Date.parse(report.paused_until as string) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
    expect((await cli("status")).stdout).toContain(
      `yes (by ${ME} until ${report.paused_until}: deploy freeze)`,
    );
    expect((await cli("resume", "report")).stdout).toBe("report resumed\n");
    const trail = await db.sql<{ actor: string; action: string }[]>`
      select actor, action from job_audit where job_name = 'report' order by id`;
    expect(trail.map((e) => `${e.actor} ${e.action}`)).toEqual([
      `${ME} backfill`,
      `${ME} pause`,
      `${ME} resume`,
    ]);
  });
});
