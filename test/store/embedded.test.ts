import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbedded } from "../../src/store/embedded.js";
import { createPool } from "../../src/store/pool.js";

// Each test has a project directory of its own (its .runner/), started the way the CLI starts it.
const dirs: string[] = [];
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-embedded-"));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return join(dir, ".runner");
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `select 1` as `password` over the server's socket: undefined if it answers, else the SQLSTATE. */
async function loginFails(url: string, password: string): Promise<string | undefined> {
  const other = new URL(url);
  other.password = password;
  const sql = createPool(other.toString(), "public", 1);
  try {
    await sql`select 1`;
    return undefined;
  } catch (error) {
    return String((error as { code?: string }).code ?? error);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("the embedded PostgreSQL", () => {
  it("makes a random superuser password at first start, keeps it 0600 in .runner/, and listens on a socket there, not on TCP", async () => {
    const dir = project();
    const server = await startEmbedded(dir);
    try {
      const password = readFileSync(join(dir, "password"), "utf8").trim();
      expect(password).toMatch(/^[\w-]{32}$/);
      expect(mode(join(dir, "password"))).toBe(0o600);
      const url = new URL(server.url);
      expect(decodeURIComponent(url.password)).toBe(password);
      expect(url.searchParams.get("host")).toBe(join(dir, "run"));
      expect(mode(join(dir, "run"))).toBe(0o700);
      expect(existsSync(join(dir, "run", `.s.PGSQL.${url.port}`))).toBe(true);
      // postmaster.pid's sixth line is the TCP listen address: none.
      expect(readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[5]).toBe("");
      expect(await loginFails(server.url, password)).toBeUndefined();
      expect(await loginFails(server.url, "runner")).toBe("28P01");
    } finally {
      await server.stop();
    }
    // A second project gets another password.
    const second = await startEmbedded(project());
    await second.stop();
    expect(new URL(second.url).password).not.toBe(new URL(server.url).password);
  }, 90_000);

  it("gives a cluster made with the old constant password a random one at its next start", async () => {
    const dir = project();
    const first = await startEmbedded(dir);
    const sql = createPool(first.url, "public", 1);
    await sql.unsafe("alter role postgres password 'runner'");
    await sql.end();
    await first.stop();
    rmSync(join(dir, "password"));

    const again = await startEmbedded(dir);
    try {
      expect(again.notes.join("\n")).toContain("password is now random");
      const password = readFileSync(join(dir, "password"), "utf8").trim();
      expect(password).not.toBe("runner");
      expect(mode(join(dir, "password"))).toBe(0o600);
      expect(await loginFails(again.url, password)).toBeUndefined();
      expect(await loginFails(again.url, "runner")).toBe("28P01");
    } finally {
      await again.stop();
    }
  }, 90_000);

  it("starts despite a stale postmaster.pid naming a live process that is not PostgreSQL (pid reuse)", async () => {
    const dir = project();
    const first = await startEmbedded(dir);
    const pidFile = join(first.dataDir, "postmaster.pid");
    const lines = readFileSync(pidFile, "utf8");
    await first.stop();
    expect(existsSync(pidFile)).toBe(false);
    // After a reboot, the pid in the file belongs to some other live process.
    const impostor: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      writeFileSync(pidFile, lines.replace(/^\d+/, String(impostor.pid)), { mode: 0o600 });
      const server = await startEmbedded(dir);
      try {
        const sql = createPool(server.url, "public", 1);
        const [row] = await sql`select 1 as one`;
        await sql.end();
        expect(row).toEqual({ one: 1 });
        expect(server.notes.join("\n")).toContain(`stale postmaster.pid naming pid ${impostor.pid}`);
        expect(Number(readFileSync(pidFile, "utf8").split("\n")[0])).not.toBe(impostor.pid);
      } finally {
        await server.stop();
      }
      expect(impostor.exitCode).toBeNull();
    } finally {
      impostor.kill("SIGKILL");
    }
  }, 90_000);
});
