import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, runCli } from "../helpers/process.js";

const db = await testDatabase("cliux");
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe("runner's small answers (real processes)", () => {
  it("names an unknown command and suggests the one meant", async () => {
    const typo = await runCli(["histroy", "x"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe('runner: unknown command "histroy" (did you mean "history"?)');
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(
      /^runner: unknown command "frobnicate"; commands: run, migrate, jobs, status, history, .*\btrigger, backfill, pause, resume, check, .*help$/,
    );
  });

  describe("runner migrate", () => {
    const schema = `cliux_fresh_${randomBytes(4).toString("hex")}`;
    afterAll(async () => {
      await db.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    });

    it("says which migrations it applied to a fresh schema, then that there is nothing to apply", async () => {
      const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: schema };
      const first = await runCli(["migrate"], env);
      expect(first.code).toBe(0);
      expect(first.stdout.trim()).toMatch(
        new RegExp(`^applied 001_init\\.sql(, \\d{3}_\\w+\\.sql)* in schema ${schema}$`),
      );
      expect(first.stdout).not.toContain("up to date");
      const second = await runCli(["migrate"], env);
      expect(second.code).toBe(0);
      expect(second.stdout.trim()).toBe(`migrations up to date in schema ${schema}: nothing to apply`);
    });
  });

  it("shows retries, not attempts, in the RETRIES column of runner jobs", async () => {
    const path = jobsModule(
      `export default [{ name: "thrice", schedule: "0 3 * * *", retries: { attempts: 3 }, run() {} }];`,
    );
    const result = await runCli(["jobs", "--jobs", path]);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trim().split("\n");
    const column = header!.split(/\s{2,}/).indexOf("RETRIES");
    const row = rows.find((line) => line.startsWith("thrice"))!.split(/\s{2,}/);
    expect(row[column]).toBe("2");
  });

  it("fails runner check when only one of the admin credentials is set", async () => {
    const onlyUser = await runCli(["check"], { ADMIN_BASIC_USERNAME: "admin" });
    expect(onlyUser.code).toBe(2);
    expect(onlyUser.stderr.trim()).toBe(
      "runner: ADMIN_BASIC_USERNAME is set but ADMIN_BASIC_PASSWORD is not: /v1/admin/*, /api/v1/* and the console answer 503 until both are set",
    );
    const onlyPassword = await runCli(["check"], { ADMIN_BASIC_PASSWORD: "s3cret-admin-pw" });
    expect(onlyPassword.code).toBe(2);
    expect(onlyPassword.stderr).toContain("ADMIN_BASIC_PASSWORD is set but ADMIN_BASIC_USERNAME is not");
    expect(onlyPassword.stderr).not.toContain("s3cret-admin-pw");
    const both = await runCli(["check"], { ADMIN_BASIC_USERNAME: "admin", ADMIN_BASIC_PASSWORD: "pw-12345" });
    expect(both.code).toBe(0);
  });

  it("answers a misspelt @nickname with the nicknames runner takes, not croner's 'seven parts'", async () => {
    const path = jobsModule(`export default [{ name: "typo", schedule: "@dayly", run() {} }];`);
    const result = await runCli(["check", "--jobs", path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '"typo": schedule: unknown cron nickname "@dayly" (did you mean "@daily"?)',
    );
    expect(result.stderr).not.toContain("seven");
    noStack(result.stderr);
    const fine = jobsModule(`export default [{ name: "fine", schedule: "@Daily", run() {} }];`);
    expect((await runCli(["check", "--jobs", fine])).code).toBe(0);
  });

  it("refuses a .json jobs file with a trailing comma, at its line and column", async () => {
    const path = join(dirname(jobsModule("")), "jobs.json");
    writeFileSync(
      path,
      '{\n  "jobs": [\n    { "name": "a", "schedule": "0 3 * * *", "sql": { "statements": ["select 1"] } },\n  ]\n}\n',
    );
    const result = await runCli(["check", "--jobs", path]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "runner: jobs.json:3:84: invalid JSON: trailing comma (JSON allows none)",
    );
  });

  it("names JOBS_FILE, not --jobs, for a missing file from the variable", async () => {
    const result = await runCli(["check", "--jobs", "/nonexistent/b.mjs"], {
      JOBS_FILE: "/nonexistent/a.yaml",
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      "runner: JOBS_FILE /nonexistent/a.yaml: file not found",
      "runner: --jobs /nonexistent/b.mjs: file not found",
    ]);
  });
});
