import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule } from "../helpers/process.js";
import { onTerminal } from "../helpers/terminal.js";

const db = await testDatabase("bfterm");
const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "bf-term" };
// The 01:00 slot fails with an error holding a terminal escape (clear screen).
const jobs = jobsModule(`
export default [{ name: "flaky", schedule: "0 * * * *", run: async (ctx) => {
  if (ctx.scheduledFor.getUTCHours() === 1) throw new Error("boom \\u001b[2J");
} }];`);

describe("runner backfill on a terminal (a pty from util-linux script)", { timeout: 60_000 }, () => {
  it("draws a progress bar on stderr, prints failures safely and a one-line summary, and no JSON", async () => {
    const { code, output } = await onTerminal(
      ["backfill", "flaky", "--from", "2026-01-05T00:00Z", "--to", "2026-01-05T02:00Z", "--jobs", jobs],
      env,
    );
    expect(code).toBe(1);
    expect(output).not.toMatch(/^\{/m);
    // Carriage returns are dropped by the helper: the frames of the bar follow each other.
    expect(output).toContain(`flaky [${"#".repeat(30)}] 3/3 slots, 1 failed`);
    expect(output).toContain("2026-01-05T01:00:00.000Z failed: boom \\x1b[2J");
    expect(output).not.toContain("\u001b[2J");
    expect(output).toContain(
      "backfill of flaky: 2 succeeded, 1 failed, 0 left, 0 already succeeded (3 slots from 2026-01-05T00:00:00.000Z to 2026-01-05T02:00:00.000Z)",
    );
    const dry = await onTerminal(
      [
        "backfill",
        "flaky",
        "--from",
        "2026-01-05T00:00Z",
        "--to",
        "2026-01-05T02:00Z",
        "--dry-run",
        "--jobs",
        jobs,
      ],
      env,
    );
    expect(dry.code).toBe(0);
    expect(dry.output).toBe(
      "2026-01-05T01:00:00.000Z  2026-01-05 01:00:00 +00:00\n1 slot(s) to run, 2 already succeeded (dry run: nothing ran)\n",
    );
  });
});
