import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/process.js";
import { onTerminal } from "../helpers/terminal.js";

const db = await testDatabase("out");
// A password in the URL, to see that it never shows (the test server takes any, or has its own).
const url = new URL(db.url);
if (!url.password) url.password = "pw-not-shown-42";
const password = decodeURIComponent(url.password);
const where = `${url.hostname}:${url.port || "5432"}${url.pathname}`;

const fresh: string[] = [];
function freshSchema(): string {
  const schema = `out_fresh_${randomBytes(4).toString("hex")}`;
  fresh.push(schema);
  return schema;
}
afterAll(async () => {
  for (const schema of fresh) await db.sql.unsafe(`drop schema if exists "${schema}" cascade`);
});

describe("log output for people and for machines (real processes)", () => {
  it("on a terminal, the daemon writes readable lines and names its database, never the password", async () => {
    const schema = freshSchema();
    const { code, output } = await onTerminal(["--once"], {
      DATABASE_URL: url.href,
      DATABASE_SCHEMA: schema,
    });
    expect(code).toBe(0);
    const lines = output.trim().split("\n");
    expect(lines.filter((line) => line.trimStart().startsWith("{"))).toEqual([]);
    expect(lines[0]).toMatch(
      new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: database ${where}, schema ${schema}\\b`),
    );
    expect(output).toMatch(/INFO: once: 0 run\(s\), 0 failed/);
    expect(output).not.toContain(password);
  });

  it("on a terminal, LOG_FORMAT=json still writes JSON", async () => {
    const { code, output } = await onTerminal(["--once"], {
      DATABASE_URL: url.href,
      DATABASE_SCHEMA: freshSchema(),
      LOG_FORMAT: "json",
    });
    expect(code).toBe(0);
    const lines = output.trim().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("into a pipe, the daemon writes JSON, and its first line names the database", async () => {
    const schema = freshSchema();
    const result = await runCli(["--once"], { DATABASE_URL: url.href, DATABASE_SCHEMA: schema });
    expect(result.code).toBe(0);
    const first = JSON.parse(result.stdout.split("\n")[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      level: "info",
      msg: `database ${where}, schema ${schema}`,
      database: where,
      schema,
    });
    expect(result.stdout + result.stderr).not.toContain(password);
  });

  it("commands other than run print no log lines when nothing is wrong, and do with LOG_LEVEL", async () => {
    const env = { DATABASE_URL: url.href, DATABASE_SCHEMA: freshSchema() };
    const status = await runCli(["status"], env); // migrates the fresh schema on the way
    expect(status.code).toBe(0);
    expect(status.stderr).toBe("");
    expect(status.stdout).toContain("NAME");
    const verbose = await runCli(["status"], { ...env, DATABASE_SCHEMA: freshSchema(), LOG_LEVEL: "info" });
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('"msg":"migrations applied"');
  });
});
