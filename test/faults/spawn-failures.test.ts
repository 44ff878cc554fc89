import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { BIN, childEnv, jobsModule } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("spawnfail");

/**
 * A daemon capped at 256 descriptors. `hog` (started through job_triggers) opens /dev/null until
 * EMFILE, gives two back (so the database and the logs still work) and holds the rest until the
 * test creates the release file; meanwhile `tick` (a command job, every second) cannot spawn.
 */
describe("spawn failures under descriptor exhaustion", () => {
  it("a command job that cannot spawn (EMFILE) is a failed run with the reason; the daemon lives on", async () => {
    const hog = jobsModule(`
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
const release = join(import.meta.dirname, "release");
export default [{
  name: "hog", schedule: "@yearly", timeout: "60s",
  run: async (ctx) => {
    const held = [];
    try { for (;;) held.push(openSync("/dev/null", "r")); } catch (error) { if (error.code !== "EMFILE") throw error; }
    for (const fd of held.splice(0, 2)) closeSync(fd);
    ctx.log.info({ held: held.length }, "descriptors held");
    while (!existsSync(release)) await new Promise((r) => setTimeout(r, 50));
    for (const fd of held) closeSync(fd);
    return held.length;
  },
}];`);
    const release = join(dirname(hog), "release");
    const file = jobsModule(
      `jobs:
  - name: tick
    schedule: "* * * * * *"
    catchUp: none
    overlap: allow
    command: { argv: ["true"] }
`,
      "jobs.yaml",
    );
    const child = spawn(
      "prlimit",
      ["--nofile=256:256", process.execPath, BIN, "--interval", "1", "--jobs", hog, "--jobs", file],
      {
        env: childEnv({ DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, RUN_RETENTION_DAYS: "0" }),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => output.includes('"msg":"runner started"'), 15_000, "runner started");
      await waitFor(
        async () =>
          (await db.sql`select 1 from job_runs where job_name = 'tick' and status = 'succeeded'`)[0],
        15_000,
        "a first tick",
      );
      await db.sql`insert into job_triggers (job_name, requested_by) values ('hog', 'test')`;
      const failed = await waitFor(
        async () =>
          (
            await db.sql`select id, error from job_runs where job_name = 'tick' and status = 'failed' order by id limit 1`
          )[0],
        20_000,
        `a failed tick (output: ${output.slice(-2000)})`,
      );
      expect(failed.error).toMatch(/^could not start true: spawn true EMFILE/);
      writeFileSync(release, "");
      await waitFor(
        async () =>
          (
            await db.sql`select 1 from job_runs where job_name = 'tick' and status = 'succeeded' and id > ${failed.id}`
          )[0],
        20_000,
        "a tick after the release",
      );
      const [hogRun] = await db.sql`select status from job_runs where job_name = 'hog'`;
      expect(hogRun?.status).toBe("succeeded");
      expect(child.exitCode).toBeNull();
      expect(output).not.toContain("uncaught");
    } finally {
      writeFileSync(release, "");
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
