import { hostname, userInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, runCli } from "../helpers/process.js";

const db = await testDatabase("auditcli");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "audit-cli" };
const jobs = jobsModule(`export default [
  { name: "report", schedule: "0 6 * * *", run: async () => {} },
  { name: "other", schedule: "0 7 * * *", run: async () => {} },
];`);
const cli = (...args: string[]) => runCli([...args, "--jobs", jobs], env);
const ME = `cli:${userInfo().username}@${hostname()}`;

describe("runner audit (real processes)", { timeout: 120_000 }, () => {
  it("lists backfills, triggers and pauses with the os user and host, per job or all, as a table or JSON", async () => {
    expect((await cli("--once", "--job", "report", "--param", "day=monday")).code).toBe(0);
    expect((await cli("trigger", "other")).code).toBe(0);
    expect((await cli("pause", "report", "--reason", "audit")).code).toBe(0);
    const all = JSON.parse((await cli("audit", "--json")).stdout) as {
      events: { actor: string; action: string; job_name: string; details: Record<string, unknown> }[];
    };
    expect(all.events.map((e) => [e.actor, e.action, e.job_name])).toEqual([
      [ME, "pause", "report"],
      [ME, "trigger", "other"],
      [ME, "backfill", "report"],
    ]);
    expect(all.events[2]!.details).toEqual({ params: { day: "monday" } });
    const table = await cli("audit", "report");
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+JOB\s+DETAILS$/);
    expect(table.stdout).toContain("backfill");
    expect(table.stdout).not.toContain("other");
    const bad = await cli("audit", "--limit", "0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit "0": expected an integer from 1 to 10000');
  });
});
