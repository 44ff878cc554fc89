import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPool } from "../../src/store/pool.js";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";

const db = await testDatabase("daemon");
const dbEnv = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema };

const jobs = jobsModule(`
export default [
  { name: "tick", schedule: "* * * * * *", run: async () => "tock" },
  { name: "long", schedule: "@yearly", run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => setTimeout(resolve, 60_000))) },
];`);

describe("the daemon (real processes)", () => {
  it("fires jobs at their instants, writes heartbeats that the README's psql query shows, and stops on SIGTERM with exit 0", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      ...dbEnv,
      JOB_RUNNER_ID: "daemon-a",
    });
    await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === "tick");
    const scheduled = daemon.logs().filter((l) => l.msg === "job scheduled");
    expect(scheduled.map((l) => l.job_name).sort()).toEqual(["long", "prune_runs", "tick"]);
    const readme = await db.sql.unsafe(
      "SELECT name, runner_id, last_heartbeat FROM job_heartbeats ORDER BY last_heartbeat DESC LIMIT 5;",
    );
    expect(readme.map((r) => r.name)).toEqual(expect.arrayContaining(["jobs-runner", "tick"]));
    expect(readme.find((r) => r.name === "jobs-runner")!.runner_id).toBe("daemon-a");
    daemon.child.kill("SIGTERM");
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    expect(daemon.logs().at(-1)!.msg).toBe("runner stopped");
    const [tick] =
      await db.sql`select status, trigger, scheduled_for from job_runs where job_name = 'tick' order by id limit 1`;
    expect(tick).toMatchObject({ status: "succeeded", trigger: "schedule" });
    expect(tick!.scheduled_for.getMilliseconds()).toBe(0);
  });

  it("SIGTERM during a run waits the grace, records the run interrupted and exits 0", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      ...dbEnv,
      JOB_RUNNER_ID: "daemon-b",
      SHUTDOWN_GRACE_SECONDS: "1",
    });
    await daemon.waitForLog((l) => l.msg === "runner started");
    await db.sql`insert into job_triggers (job_name, requested_by) values ('long', 'test')`;
    const started = await daemon.waitForLog((l) => l.msg === "run started" && l.job_name === "long");
    const sentAt = Date.now();
    daemon.child.kill("SIGTERM");
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(1000 + 1500);
    const [row] =
      await db.sql`select status, error, finished_at from job_runs where id = ${String(started.run_id)}`;
    expect(row!.status).toBe("interrupted");
    expect(row!.error).toMatch(/shutdown after 1000 ms grace/);
  });

  it("starts on the embedded PostgreSQL under ./.runner when DATABASE_URL is unset", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "runner-embedded-"));
    chmodSync(cwd, 0o755);
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], { JOB_RUNNER_ID: "embedded" }, cwd);
    let dataDir = join(cwd, ".runner/data");
    try {
      const using = await daemon.waitForLog(
        (l) => String(l.msg).startsWith("using the embedded PostgreSQL"),
        60_000,
      );
      dataDir = String(using.data_dir);
      await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === "tick", 15_000);
      expect(existsSync(join(cwd, ".runner"))).toBe(true);
      // Over the socket in .runner/run, with the password the first start made.
      const password = readFileSync(join(cwd, ".runner/password"), "utf8").trim();
      expect(using.database).toBe(`${join(cwd, ".runner/run")}:5432/postgres`);
      const sql = createPool(
        `postgres://postgres:${password}@localhost:5432/postgres?host=${join(cwd, ".runner/run")}`,
        "public",
        1,
      );
      const [beat] = await sql`select runner_id from job_heartbeats where name = 'jobs-runner'`;
      await sql.end();
      expect(beat!.runner_id).toBe("embedded");
    } finally {
      daemon.child.kill("SIGINT");
    }
    const stoppedAt = Date.now();
    expect((await daemon.exited).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(8000);
    // The runner stopped the server it started (a Ctrl-C at a terminal: test/e2e/embedded-ctrl-c.test.ts).
    expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  }, 90_000);
});
