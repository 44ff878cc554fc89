import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbedded } from "../../src/store/embedded.js";
import { createPool } from "../../src/store/pool.js";
import { BIN, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

// A person at a terminal: `node bin/runner --jobs slow.mjs` in tmux on the embedded database (no
// DATABASE_URL, the project's .runner/), then Ctrl-C. The terminal sends SIGINT to its foreground
// process group; the embedded server must not be in it.

const tmuxSocket = `runner-ctrl-c-${randomBytes(4).toString("hex")}`;
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", tmuxSocket, ...args], { encoding: "utf8" });
const projects: string[] = [];
afterAll(() => {
  try {
    tmux("kill-server");
  } catch {
    // no session left
  }
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const cwd = mkdtempSync(join(tmpdir(), "runner-ctrl-c-"));
  chmodSync(cwd, 0o755);
  projects.push(cwd);
  writeFileSync(
    join(cwd, "slow.mjs"),
    `export default [
  { name: "slow", schedule: "@yearly", run: async () => { await new Promise((r) => setTimeout(r, 6000)); return "done"; } },
];`,
  );
  return cwd;
}

/** Pids of processes whose command line names `dataDir`: the server and its children. */
function postgresOf(dataDir: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", dataDir], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The server is gone: asked to stop last, it ends right after the runner (its shutdown checkpoint). */
const serverGone = (dataDir: string) =>
  waitFor(() => postgresOf(dataDir).length === 0, 5000, "no postgres left");

/** The runner in a tmux window of its own, as typed at a prompt; its output goes to out.log. */
function startInTerminal(cwd: string, session: string, env: Record<string, string>, args: string[]) {
  const vars = Object.entries({ PATH: process.env.PATH!, HOME: process.env.HOME!, HTTP_PORT: "0", ...env })
    .map(([key, value]) => `${key}='${value}'`)
    .join(" ");
  tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", "bash --norc --noprofile");
  const command = `cd '${cwd}' && env -i ${vars} node '${BIN}' ${args.join(" ")} > out.log 2>&1; echo "runner-exit=$?"`;
  tmux("send-keys", "-t", session, command, "Enter");
  const logs = () =>
    (existsSync(join(cwd, "out.log")) ? readFileSync(join(cwd, "out.log"), "utf8") : "")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const exitCode = () => /runner-exit=(\d+)/.exec(tmux("capture-pane", "-p", "-t", session))?.[1];
  return { logs, exitCode };
}

/** Read the project's database from the test (starting its server, and stopping it again). */
async function query<T>(cwd: string, statement: string): Promise<T[]> {
  const server = await startEmbedded(join(cwd, ".runner"));
  const sql = createPool(server.url, "public", 1);
  try {
    return (await sql.unsafe(statement)) as unknown as T[];
  } finally {
    await sql.end();
    await server.stop();
  }
}

describe("Ctrl-C at a terminal on the embedded database", () => {
  it("reaches the runner only: it waits out the grace, records the run, stops the server last", async () => {
    const cwd = project();
    const dataDir = join(cwd, ".runner", "data");
    const grace = 10;
    const term = startInTerminal(
      cwd,
      "busy",
      { SHUTDOWN_GRACE_SECONDS: String(grace), JOB_RUNNER_ID: "at-terminal" },
      ["--jobs", "slow.mjs", "--interval", "1"],
    );
    await waitFor(() => term.logs().some((l) => l.msg === "runner started"), 90_000, "runner started");
    // Trigger the 6 s job as another terminal would, and wait for it to start.
    const trigger = new RunnerProcess(["trigger", "slow", "--jobs", "slow.mjs"], {}, cwd);
    expect((await trigger.exited).code).toBe(0);
    const started = await waitFor(
      () => term.logs().find((l) => l.msg === "run started" && l.job_name === "slow"),
      15_000,
      "the slow run to start",
    );
    expect(postgresOf(dataDir).length).toBeGreaterThan(0);

    tmux("send-keys", "-t", "busy", "C-c");
    const sentAt = Date.now();
    const code = await waitFor(() => term.exitCode(), (grace + 5) * 1000, "the runner to exit");
    const tookMs = Date.now() - sentAt;
    console.log(`Ctrl-C with a 6 s run going: exit after ${tookMs} ms`);
    expect(code).toBe("0");
    expect(tookMs).toBeLessThan((grace + 2) * 1000);
    const lines = term.logs();
    expect(lines.filter((l) => String(l.msg).includes("recording outcome failed"))).toEqual([]);
    expect(lines.find((l) => l.msg === "run finished" && l.run_id === started.run_id)).toMatchObject({
      status: "succeeded",
    });
    expect(lines.at(-1)!.msg).toBe("runner stopped");
    await serverGone(dataDir);

    // The next start sees the run as it ended, not abandoned.
    const history = new RunnerProcess(["history", "slow", "--json", "--jobs", "slow.mjs"], {}, cwd);
    const shown = await history.exited;
    expect(shown.code).toBe(0);
    const runs = (JSON.parse(shown.stdout) as { runs: { id: string; status: string }[] }).runs;
    expect(runs.find((run) => run.id === started.run_id)!.status).toMatch(/^(succeeded|interrupted)$/);
    await serverGone(dataDir);
  }, 150_000);

  it("with nothing running, stops at once and writes the runner's stopped time", async () => {
    const cwd = project();
    const dataDir = join(cwd, ".runner", "data");
    const term = startInTerminal(cwd, "idle", { JOB_RUNNER_ID: "idle-at-terminal" }, ["--jobs", "slow.mjs"]);
    await waitFor(() => term.logs().some((l) => l.msg === "runner started"), 90_000, "runner started");
    tmux("send-keys", "-t", "idle", "C-c");
    const sentAt = Date.now();
    const code = await waitFor(() => term.exitCode(), 15_000, "the runner to exit");
    const tookMs = Date.now() - sentAt;
    console.log(`Ctrl-C with nothing running: exit after ${tookMs} ms`);
    expect(code).toBe("0");
    expect(tookMs).toBeLessThan(1500);
    await serverGone(dataDir);
    const [row] = await query<{ stopped_at: Date | null }>(
      cwd,
      "select stopped_at from job_runners where runner_id = 'idle-at-terminal'",
    );
    expect(row!.stopped_at).toBeInstanceOf(Date);
    expect(postgresOf(dataDir)).toEqual([]);
  }, 120_000);

  it("after kill -9 of the runner, the next start adopts the server left running and stops it when done", async () => {
    const cwd = project();
    const dataDir = join(cwd, ".runner", "data");
    const daemon = new RunnerProcess(["--jobs", "slow.mjs"], { JOB_RUNNER_ID: "killed" }, cwd);
    await daemon.waitForLog((l) => l.msg === "runner started", 90_000);
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    // Its own session: the server outlives the runner.
    const orphans = postgresOf(dataDir);
    expect(orphans.length).toBeGreaterThan(0);

    const status = new RunnerProcess(["status", "--json", "--jobs", "slow.mjs"], {}, cwd);
    const done = await status.exited;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain("adopted the embedded PostgreSQL");
    expect((JSON.parse(done.stdout) as { jobs: { name: string }[] }).jobs.map((j) => j.name)).toContain(
      "slow",
    );
    await serverGone(dataDir);
  }, 120_000);
});
