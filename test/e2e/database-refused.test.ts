import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbedded } from "../../src/store/embedded.js";
import { runCli } from "../helpers/process.js";

// A PostgreSQL of this file's own that checks passwords (the shared test server trusts everyone),
// with a role that may log in but not connect to one database.
const dir = mkdtempSync(join(tmpdir(), "runner-refused-"));
chmodSync(dir, 0o755);
const server = await startEmbedded(dir, () => {}, { tcp: true });
const admin = postgres(server.url, { max: 1, onnotice: () => {} });
await admin.unsafe("create role outsider login password 'outsider-pw'");
await admin.unsafe("create database closed");
await admin.unsafe("revoke connect on database closed from public");
afterAll(async () => {
  await admin.end();
  await server.stop();
});

/** The server's URL with other credentials or another database. */
function urlWith(user: string, password: string, database: string): string {
  const url = new URL(server.url);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}
const where = (database: string) => {
  const url = new URL(urlWith("u", "p", database));
  return `${url.hostname}:${url.port}/${database}`;
};

/** The CLI's one error line; no retries were logged, no stack printed, no password shown. */
function refusedLine(
  result: { code: number | null; stdout: string; stderr: string },
  secret: string,
): string {
  expect(result.code).toBe(3);
  const output = result.stdout + result.stderr;
  expect(output).not.toContain("database unreachable");
  expect(output).not.toMatch(/\n\s+at /);
  expect(output).not.toContain(secret);
  const lines = result.stderr.split("\n").filter((line) => line.startsWith("runner: "));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("a database that refuses us is final: exit 3 at once, never retried as unreachable", () => {
  it("a wrong password (28P01), for the daemon and for runner status", async () => {
    const url = urlWith("postgres", "wrong-pw-93ac", "postgres");
    for (const args of [["--interval", "1"], ["status"]]) {
      const result = await runCli(args, { DATABASE_URL: url });
      const line = refusedLine(result, "wrong-pw-93ac");
      expect(line).toContain(`runner: database ${where("postgres")} refused the connection:`);
      expect(line).toMatch(/password authentication failed for user "postgres" \(SQLSTATE 28P01\)/);
    }
  });

  it("a database that does not exist (3D000)", async () => {
    const result = await runCli(["status"], { DATABASE_URL: urlWith("outsider", "outsider-pw", "nosuchdb") });
    const line = refusedLine(result, "outsider-pw");
    expect(line).toContain(`database ${where("nosuchdb")} refused the connection:`);
    expect(line).toContain("(SQLSTATE 3D000)");
  });

  it("no permission to connect (42501)", async () => {
    const result = await runCli(["migrate"], { DATABASE_URL: urlWith("outsider", "outsider-pw", "closed") });
    const line = refusedLine(result, "outsider-pw");
    expect(line).toMatch(/permission denied for database "?closed"? \(SQLSTATE 42501\)/);
  });

  it("no permission to create the runner's schema (42501 while migrating)", async () => {
    await admin.unsafe("revoke create on database postgres from public");
    const result = await runCli(["migrate"], {
      DATABASE_URL: urlWith("outsider", "outsider-pw", "postgres"),
      DATABASE_SCHEMA: "runner_refused",
    });
    const line = refusedLine(result, "outsider-pw");
    expect(line).toContain(`database ${where("postgres")} refused to migrate schema "runner_refused":`);
    expect(line).toContain("(SQLSTATE 42501)");
  });
});
