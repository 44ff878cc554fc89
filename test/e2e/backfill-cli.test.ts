import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("backfillcli");
// Each handler appends its slot to a ledger file: a slot whose handler ran twice shows twice.
const ledger = jobsModule("", "ledger.txt");
const env = {
  DATABASE_URL: db.url,
  DATABASE_SCHEMA: db.schema,
  JOB_RUNNER_ID: "backfill-cli",
  // A lease of 5 s: a SIGKILLed backfill's run is reaped seconds later, not minutes.
  JOB_LOOP_INTERVAL_SECONDS: "1",
  SHUTDOWN_GRACE_SECONDS: "5",
  LEDGER: ledger,
};
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
const note = (ctx) => appendFileSync(process.env.LEDGER, ctx.jobName + " " + ctx.scheduledFor.toISOString() + "\\n");
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export default [
  // 02:30 in Berlin: on 2026-03-29 that local time does not exist, on 2026-10-25 it happens twice.
  { name: "nightly", schedule: "30 2 * * *", timezone: "Europe/Berlin", run: async (ctx) => {} },
  { name: "nightly_skip", schedule: "30 2 * * *", timezone: "Europe/Berlin", dst: { skipped: "skip" }, run: async () => {} },
  { name: "hourly", schedule: "0 * * * *", run: async (ctx) => {
      note(ctx);
      await wait(300);
      return { slot: ctx.scheduledFor.toISOString(), key: ctx.idempotencyKey };
  } },
  { name: "slow", schedule: "0 * * * *", overlap: "allow", run: async (ctx) => {
      note(ctx);
      await wait(1500);
      appendFileSync(process.env.LEDGER, "slow-end " + ctx.scheduledFor.toISOString() + "\\n");
  } },
  { name: "minutely", schedule: "* * * * *", run: async () => {} },
  { name: "broken", schedule: "0 * * * *", retries: { attempts: 2, backoff: "fixed", initial: "10ms" }, run: async () => { throw new Error("upstream 503"); } },
];`);
const cli = (...args: string[]) => runCli([...args, "--jobs", jobs], env);
const lines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const ledgerOf = (job: string) =>
  readFileSync(ledger, "utf8")
    .split("\n")
    .filter((line) => line.startsWith(`${job} `))
    .map((line) => line.slice(job.length + 1));
const hours = (first: string, count: number) =>
  Array.from({ length: count }, (_, i) => new Date(Date.parse(first) + i * 3_600_000).toISOString());
const rowsOf = (job: string) =>
  db.sql<{ scheduled_for: Date; trigger: string; attempt: number; status: string; result: unknown }[]>`
    select scheduled_for, trigger, attempt, status, result from job_runs where job_name = ${job}
    order by scheduled_for, attempt`;

describe("runner backfill (real processes)", { timeout: 180_000 }, () => {
  it("--dry-run lists the slots under the job's zone and DST policy, and runs nothing", async () => {
    const window = ["--from", "2026-03-28T00:00Z", "--to", "2026-03-30T12:00Z", "--dry-run"];
    const shift = await cli("backfill", "nightly", ...window);
    expect(shift.code).toBe(0);
    expect(lines(shift.stdout)).toEqual([
      {
        event: "slot",
        job_name: "nightly",
        slot: "2026-03-28T01:30:00.000Z",
        local: "2026-03-28 02:30:00 +01:00",
      },
      // 02:30 does not exist that night: the default policy shifts it to the jump (03:00 CEST).
      {
        event: "slot",
        job_name: "nightly",
        slot: "2026-03-29T01:00:00.000Z",
        local: "2026-03-29 03:00:00 +02:00",
      },
      {
        event: "slot",
        job_name: "nightly",
        slot: "2026-03-30T00:30:00.000Z",
        local: "2026-03-30 02:30:00 +02:00",
      },
      { event: "summary", dry_run: true, job_name: "nightly", slots: 3, already_succeeded: 0 },
    ]);
    const skip = await cli("backfill", "nightly_skip", ...window);
    expect(lines(skip.stdout).map((l) => l.slot ?? l.slots)).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
      2,
    ]);
    const autumn = await cli(
      "backfill",
      "nightly",
      "--from",
      "2026-10-25T00:00Z",
      "--to",
      "2026-10-25T23:00Z",
      "--dry-run",
    );
    // 02:30 happens twice: the default policy (first) runs the first one only.
    expect(lines(autumn.stdout)[0]).toMatchObject({
      slot: "2026-10-25T00:30:00.000Z",
      local: "2026-10-25 02:30:00 +02:00",
    });
    expect(lines(autumn.stdout)).toHaveLength(2);
    expect(await db.sql`select 1 from job_runs where job_name like 'nightly%'`).toHaveLength(0);
  });

  it("runs each missing slot once as that slot, skips succeeded ones, retries a failed one as its next attempt", async () => {
    const [done, failed] = hours("2026-01-05T00:00:00.000Z", 2);
    await db.sql`
      insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, finished_at)
      values ('hourly', ${done!}, 'schedule', 1, 'succeeded', 'earlier', now()),
             ('hourly', ${failed!}, 'schedule', 1, 'failed', 'earlier', now())`;
    const result = await cli(
      "backfill",
      "hourly",
      "--from",
      "2026-01-05T00:00Z",
      "--to",
      "2026-01-05T04:00Z",
    );
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    const slots = hours("2026-01-05T01:00:00.000Z", 4);
    expect(
      out
        .slice(0, -1)
        .map((l) => [l.slot, l.status, l.ran_here])
        .sort(),
    ).toEqual(slots.map((slot) => [slot, "succeeded", true]));
    expect(out.at(-1)).toEqual({
      event: "summary",
      job_name: "hourly",
      from: "2026-01-05T00:00:00.000Z",
      to: "2026-01-05T04:00:00.000Z",
      slots: 5,
      already_succeeded: 1,
      succeeded: 4,
      failed: 0,
      left: 0,
      stopped_because: null,
    });
    const rows = (await rowsOf("hourly")).filter((r) => r.trigger === "backfill");
    expect(rows.map((r) => [r.scheduled_for.toISOString(), r.attempt, r.status])).toEqual(
      slots.map((slot) => [slot, slot === failed ? 2 : 1, "succeeded"]),
    );
    // ctx.scheduledFor is the slot and ctx.idempotencyKey the slot's key, as for scheduled runs.
    for (const row of rows)
      expect(row.result).toMatchObject({
        slot: row.scheduled_for.toISOString(),
        key: `hourly@${row.scheduled_for.toISOString()}`,
      });
    expect(ledgerOf("hourly").sort()).toEqual(slots);
    // runner explain gives each slot its fate, before the job was first seen too: the slot that
    // failed on schedule and then succeeded in the backfill is backfilled.
    const explained = await cli(
      "explain",
      "hourly",
      "--from",
      "2026-01-04T23:59Z",
      "--to",
      "2026-01-05T04:00Z",
      "--json",
    );
    expect(explained.code).toBe(0);
    const report = JSON.parse(explained.stdout) as {
      ranges: { first: string; count: number; fate: string; reason: string }[];
    };
    expect(report.ranges.map((r) => [r.first, r.count, r.fate, r.reason])).toEqual([
      [done, 1, "ran", "succeeded"],
      [slots[0], 4, "backfilled", "succeeded"],
    ]);
    // Everything succeeded now: a second backfill has nothing to run.
    const again = await cli("backfill", "hourly", "--from", "2026-01-05T00:00Z", "--to", "2026-01-05T04:00Z");
    expect(lines(again.stdout)).toEqual([
      expect.objectContaining({ event: "summary", already_succeeded: 5, succeeded: 0 }),
    ]);
  });

  it("exits 1 when a slot fails, after the job's retries, with the error in its JSON line", async () => {
    const result = await cli(
      "backfill",
      "broken",
      "--from",
      "2026-01-06T00:00Z",
      "--to",
      "2026-01-06T01:00Z",
    );
    expect(result.code).toBe(1);
    const out = lines(result.stdout);
    expect(out.filter((l) => l.event === "slot").map((l) => [l.status, l.error])).toEqual([
      ["failed", "upstream 503"],
      ["failed", "upstream 503"],
    ]);
    expect(out.at(-1)).toMatchObject({ event: "summary", succeeded: 0, failed: 2, left: 0 });
    // Each slot went through the job's retries, as a scheduled slot does: attempt 2 is a retry.
    expect(
      (await rowsOf("broken")).map((r) => [r.scheduled_for.toISOString(), r.attempt, r.trigger, r.status]),
    ).toEqual([
      ["2026-01-06T00:00:00.000Z", 1, "backfill", "failed"],
      ["2026-01-06T00:00:00.000Z", 2, "retry", "failed"],
      ["2026-01-06T01:00:00.000Z", 1, "backfill", "failed"],
      ["2026-01-06T01:00:00.000Z", 2, "retry", "failed"],
    ]);
  });

  it("two backfills started at once on one window run each slot exactly once", async () => {
    const window = ["--from", "2026-01-07T00:00Z", "--to", "2026-01-07T11:00Z", "--concurrency", "3"];
    const [a, b] = await Promise.all([
      cli("backfill", "hourly", ...window),
      cli("backfill", "hourly", ...window),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const slots = hours("2026-01-07T00:00:00.000Z", 12);
    const ran = [...lines(a.stdout), ...lines(b.stdout)].filter((l) => l.event === "slot" && l.ran_here);
    expect(ran.map((l) => l.slot).sort()).toEqual(slots);
    expect(
      ledgerOf("hourly")
        .filter((slot) => slot.startsWith("2026-01-07"))
        .sort(),
    ).toEqual(slots);
    const rows = (await rowsOf("hourly")).filter((r) =>
      r.scheduled_for.toISOString().startsWith("2026-01-07"),
    );
    expect(rows.map((r) => [r.scheduled_for.toISOString(), r.attempt, r.status])).toEqual(
      slots.map((slot) => [slot, 1, "succeeded"]),
    );
    // Each saw the whole window settled: its own slots and the other's (a slot the other finished
    // before this one began counts as already succeeded).
    for (const out of [a, b]) {
      const summary = lines(out.stdout).at(-1)!;
      expect(summary).toMatchObject({ event: "summary", slots: 12, failed: 0, left: 0 });
      expect((summary.succeeded as number) + (summary.already_succeeded as number)).toBe(12);
    }
  });

  it("SIGKILL in the middle, then a second invocation: completes, every slot succeeded exactly once", async () => {
    const window = ["--from", "2026-01-08T00:00Z", "--to", "2026-01-08T07:00Z", "--jobs", jobs];
    const first = new RunnerProcess(["backfill", "slow", ...window], env);
    // Killed while its third slot's handler runs (started, not ended): two succeeded, one in flight.
    await waitFor(
      () => ledgerOf("slow").length === 3 && ledgerOf("slow-end").length === 2,
      30_000,
      "the third slot to be running",
    );
    first.child.kill("SIGKILL");
    await first.exited;
    const killed = await db.sql<{ scheduled_for: Date }[]>`
      select scheduled_for from job_runs where job_name = 'slow' and status = 'running'`;
    expect(killed).toHaveLength(1);
    const second = await runCli(["backfill", "slow", ...window], env);
    expect(second.code).toBe(0);
    const slots = hours("2026-01-08T00:00:00.000Z", 8);
    const rows = await rowsOf("slow");
    expect(rows.filter((r) => r.status === "succeeded").map((r) => r.scheduled_for.toISOString())).toEqual(
      slots,
    );
    // The run in flight at the kill was reaped when its lease ran out, then run again.
    expect(
      rows.filter((r) => r.status !== "succeeded").map((r) => [r.scheduled_for, r.attempt, r.status]),
    ).toEqual([[killed[0]!.scheduled_for, 1, "abandoned"]]);
    expect(lines(second.stdout).at(-1)).toMatchObject({
      slots: 8,
      already_succeeded: 2,
      succeeded: 6,
      left: 0,
    });
  });

  it("Ctrl-C (SIGINT to the process group) stops cleanly: the running slot ends, nothing left running; started again it finishes", async () => {
    const window = ["--from", "2026-01-09T00:00Z", "--to", "2026-01-09T07:00Z", "--jobs", jobs];
    const proc = new RunnerProcess(["backfill", "slow", ...window], env, undefined, { detached: true });
    await waitFor(
      () => ledgerOf("slow").some((slot) => slot.startsWith("2026-01-09T01")),
      30_000,
      "the second slot",
    );
    process.kill(-proc.child.pid!, "SIGINT");
    const end = await proc.exited;
    expect(end.code).toBe(1);
    const summary = lines(end.stdout).at(-1)!;
    expect(summary).toMatchObject({ event: "summary", slots: 8, failed: 0 });
    expect(summary.left).toBeGreaterThan(0);
    // The slot running at Ctrl-C finished within the grace: recorded, never left `running`.
    const rows = await db.sql<{ status: string }[]>`
      select status from job_runs where job_name = 'slow' and scheduled_for >= '2026-01-09' and scheduled_for < '2026-01-10'`;
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "succeeded"));
    expect(rows.length).toBe(summary.succeeded);
    expect(end.stderr).not.toMatch(/error|stack/i);
    // Started again, it runs what was left, and only that.
    const again = await runCli(["backfill", "slow", ...window], env);
    expect(again.code).toBe(0);
    expect(lines(again.stdout).at(-1)).toMatchObject({
      already_succeeded: summary.succeeded,
      succeeded: summary.left,
      left: 0,
    });
    const slots = hours("2026-01-09T00:00:00.000Z", 8);
    expect(
      ledgerOf("slow")
        .filter((slot) => slot.startsWith("2026-01-09"))
        .sort(),
    ).toEqual(slots);
  });

  it("a paused job: nothing runs, the backfill stops with exit 1 and says why", async () => {
    expect((await cli("pause", "hourly", "--reason", "freeze")).code).toBe(0);
    const result = await cli(
      "backfill",
      "hourly",
      "--from",
      "2026-01-10T00:00Z",
      "--to",
      "2026-01-10T01:00Z",
    );
    await cli("resume", "hourly");
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      expect.objectContaining({
        event: "summary",
        slots: 2,
        succeeded: 0,
        failed: 0,
        left: 2,
        stopped_because: "the job is paused",
      }),
    ]);
    expect(result.stderr).toContain("backfill of hourly stopped: the job is paused");
    expect(
      await db.sql`select 1 from job_runs where scheduled_for >= '2026-01-10' and scheduled_for < '2026-01-11'`,
    ).toHaveLength(0);
  });

  it("bad input is exit 2 with one line naming it", async () => {
    const cases: [string[], string][] = [
      [
        ["--from", "2026-01-02T00:00Z", "--to", "2026-01-01T00:00Z"],
        "runner: --from: 2026-01-02T00:00:00.000Z is after to (2026-01-01T00:00:00.000Z)",
      ],
      [
        ["--from", "2026-01-01", "--to", "2026-01-02T00:00Z"],
        'runner: --from: expected an ISO time with a zone, e.g. 2026-03-29T00:00Z (got "2026-01-01")',
      ],
      [
        ["--from", "2026-01-01T00:00Z", "--to", "2099-01-01T00:00Z"],
        "runner: --to: 2099-01-01T00:00:00.000Z is in the future; backfill runs past slots only",
      ],
      [
        ["--from", "2020-01-01T00:00Z", "--to", "2026-01-01T00:00Z"],
        "runner: --from: the window is longer than 366 days",
      ],
      [
        ["--from", "2026-01-01T00:00Z", "--to", "2026-01-02T00:00Z", "--rate", "fast"],
        'runner: --rate: expected slots per second above 0 and at most 1000, e.g. 5/s (got "fast")',
      ],
      [
        ["--from", "2026-01-01T00:00Z", "--to", "2026-01-02T00:00Z", "--concurrency", "0"],
        'runner: --concurrency: expected an integer from 1 to 100 (got "0")',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli("backfill", "hourly", ...args);
      expect([result.code, result.stderr.trim()]).toEqual([2, message]);
    }
    // A per-minute job over 7 days: 10,080 slots, more than a backfill takes.
    const big = await cli("backfill", "minutely", "--from", "2026-01-01T00:00Z", "--to", "2026-01-08T00:00Z");
    expect([big.code, big.stderr.trim()]).toEqual([
      2,
      "runner: --from: the window holds more than 10000 slots of minutely; backfill a shorter one",
    ]);
    const unknown = await cli(
      "backfill",
      "hourlx",
      "--from",
      "2026-01-01T00:00Z",
      "--to",
      "2026-01-02T00:00Z",
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(
      'runner: unknown job "hourlx" (did you mean "hourly"?); known jobs: broken, hourly, minutely, nightly, nightly_skip, prune_runs, slow',
    );
    const missing = await cli("backfill", "hourly", "--to", "2026-01-02T00:00Z");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--from <iso>' not specified");
    expect(ledgerOf("hourly").filter((slot) => slot.startsWith("2026-01-01"))).toEqual([]);
  });
});
