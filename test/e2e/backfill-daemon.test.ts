import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("backfilld");
const ledger = jobsModule("", "ledger.txt");
const env = {
  DATABASE_URL: db.url,
  DATABASE_SCHEMA: db.schema,
  JOB_LOOP_INTERVAL_SECONDS: "1",
  LEDGER: ledger,
};
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
export default [
  { name: "slow", schedule: "0 * * * *", overlap: "allow", run: async (ctx) => {
      const note = (what) =>
        appendFileSync(process.env.LEDGER, "slow " + what + " " + process.env.JOB_RUNNER_ID + " " + ctx.scheduledFor.toISOString() + "\\n");
      note("start");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      note("end");
  } },
  { name: "hourly", schedule: "0 * * * *", overlap: "allow", run: async (ctx) => {
      appendFileSync(process.env.LEDGER, ctx.scheduledFor.toISOString() + "\\n");
      await new Promise((resolve) => setTimeout(resolve, 250));
  } },
];`);

describe("runner backfill with a running daemon (real processes)", { timeout: 120_000 }, () => {
  it("without --jobs it queues the backfill for the daemon; with --jobs it shares the window with it, each slot once", async () => {
    const daemon = new RunnerProcess(["--jobs", jobs], { ...env, JOB_RUNNER_ID: "daemon-1" });
    await waitFor(
      async () => (await db.sql`select 1 from job_catalog where job_name = 'hourly'`).length > 0,
      30_000,
      "the daemon to publish its jobs",
    );
    const window = ["--from", "2026-03-01T00:00Z", "--to", "2026-03-01T19:00Z", "--concurrency", "2"];
    // The management command knows the job from the catalog only: it cannot run it, so it asks.
    const [queued, inProcess] = await Promise.all([
      runCli(["backfill", "hourly", ...window], { ...env, JOB_RUNNER_ID: "cli-queue" }),
      runCli(["backfill", "hourly", ...window, "--jobs", jobs], { ...env, JOB_RUNNER_ID: "cli-run" }),
    ]);
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/^backfill \d+ for hourly queued for the running daemons\n$/);
    expect(inProcess.code).toBe(0);
    await waitFor(
      async () => (await db.sql`select 1 from job_backfills where finished_at is not null`).length === 1,
      30_000,
      "the daemon to finish the queued backfill",
    );
    const slots = Array.from({ length: 20 }, (_, i) =>
      new Date(Date.parse("2026-03-01T00:00:00Z") + i * 3_600_000).toISOString(),
    );
    const ran = readFileSync(ledger, "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("slow "))
      .sort();
    expect(ran).toEqual(slots);
    const rows = await db.sql<{ scheduled_for: Date; status: string; runner_id: string }[]>`
      select scheduled_for, status, runner_id from job_runs where job_name = 'hourly' order by scheduled_for`;
    expect(rows.map((r) => [r.scheduled_for.toISOString(), r.status])).toEqual(
      slots.map((s) => [s, "succeeded"]),
    );
    const trail = await db.sql<{ actor: string; details: { where: string } }[]>`
      select actor, details from job_audit where action = 'backfill' order by id`;
    expect(trail.map((e) => e.details.where).sort()).toEqual(["cli", "daemons"]);
    daemon.child.kill("SIGTERM");
    expect((await daemon.exited).code).toBe(0);
  });

  it("a daemon SIGKILLed in the middle of a shared backfill: the other finishes it, the killed run's slot runs again once", async () => {
    const spawnDaemon = (id: string) =>
      new RunnerProcess(["--jobs", jobs], { ...env, JOB_RUNNER_ID: id, MAX_CONCURRENT_RUNS: "1" });
    const a = spawnDaemon("daemon-a");
    const b = spawnDaemon("daemon-b");
    await waitFor(
      async () =>
        (
          await db.sql`select 1 from job_catalog where job_name = 'slow' and runner_id in ('daemon-a', 'daemon-b')`
        ).length === 2,
      30_000,
      "both daemons to publish their jobs",
    );
    const window = ["--from", "2026-04-01T00:00Z", "--to", "2026-04-01T07:00Z", "--concurrency", "2"];
    const queued = await runCli(["backfill", "slow", ...window], { ...env, JOB_RUNNER_ID: "cli" });
    expect(queued.code).toBe(0);
    const slowCalls = () =>
      readFileSync(ledger, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("slow "))
        .map((line) => {
          const [, what, runner, slot] = line.split(" ");
          return { what: what!, runner: runner!, slot: slot! };
        });
    // Killed while a handler of daemon-a is in the middle of its 3 s (each daemon runs one at a time).
    const held = await waitFor(
      () => {
        const calls = slowCalls().filter((call) => call.runner === "daemon-a");
        return calls.find(
          (call) => call.what === "start" && !calls.some((c) => c.what === "end" && c.slot === call.slot),
        );
      },
      30_000,
      "daemon-a to be running a slot",
    );
    a.child.kill("SIGKILL");
    await a.exited;
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_backfills where job_name = 'slow' and finished_at is not null`)
          .length === 1,
      60_000,
      "daemon-b to finish the backfill",
    );
    const slots = Array.from({ length: 8 }, (_, i) =>
      new Date(Date.parse("2026-04-01T00:00:00Z") + i * 3_600_000).toISOString(),
    );
    const rows = await db.sql<{ scheduled_for: Date; attempt: number; status: string }[]>`
      select scheduled_for, attempt, status from job_runs where job_name = 'slow' order by scheduled_for, attempt`;
    expect(rows.filter((r) => r.status === "succeeded").map((r) => r.scheduled_for.toISOString())).toEqual(
      slots,
    );
    expect(
      rows.filter((r) => r.status !== "succeeded").map((r) => [r.scheduled_for, r.attempt, r.status]),
    ).toEqual([[new Date(held.slot), 1, "abandoned"]]);
    // Handlers: each slot started once, and the killed one a second time, by daemon-b.
    const bySlot = new Map<string, string[]>();
    for (const call of slowCalls().filter((c) => c.what === "start"))
      bySlot.set(call.slot, [...(bySlot.get(call.slot) ?? []), call.runner]);
    expect([...bySlot.keys()].sort()).toEqual(slots);
    for (const [slot, runners] of bySlot)
      expect(runners).toEqual(slot === held.slot ? ["daemon-a", "daemon-b"] : [runners[0]]);
    b.child.kill("SIGTERM");
    expect((await b.exited).code).toBe(0);
  });
});
