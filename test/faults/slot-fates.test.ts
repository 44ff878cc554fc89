import { afterAll, describe, expect, it } from "vitest";
import { slotReport } from "../../src/observe/slot-report.js";
import type { Daemon } from "../../src/run/daemon.js";
import { createPool } from "../../src/store/pool.js";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/process.js";
import { testRunner, waitFor } from "../helpers/runner.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

// Why a slot did not run (#13 item 1), each cause made real under a live daemon: the database
// unreachable (a TCP proxy cut), the event loop blocked (a handler busy for 3.5 s), the daemon
// down (stopped, then started again); and what each catch-up policy and the grace did with the
// slots. Then `runner explain` prints it, with its verdict.
const db = await testDatabase("fates");
const { proxy, url } = await TcpProxy.start(db.url);
const pool = createPool(url, db.schema, 5);
const reader = new Store(db.sql, "reader", 30);
afterAll(async () => {
  await pool.end({ timeout: 1 });
  await proxy.cut();
});
const testStart = new Date();

let release: () => void = () => {};

function daemon(env: Record<string, string> = {}): { runner: Daemon; lines: string[] } {
  const { runner, lines } = testRunner(pool, {
    JOB_RUNNER_ID: "fates-1",
    JOB_LOOP_INTERVAL_SECONDS: "1",
    LOG_LEVEL: "warn",
    ...env,
  });
  const job = { schedule: "* * * * * *", run: () => {} };
  runner.registerJob({ ...job, name: "all", catchUp: "all", misfireGraceSeconds: 3600 });
  runner.registerJob({ ...job, name: "none", catchUp: "none" });
  runner.registerJob({ ...job, name: "graceful", catchUp: "all", misfireGraceSeconds: 1 });
  runner.registerJob({
    name: "blocker",
    schedule: "@yearly",
    run: () => {
      // Holds the event loop: timers of every job fire late.
      const until = Date.now() + 3500;
      while (Date.now() < until);
    },
  });
  runner.registerJob({
    name: "hold",
    schedule: "@yearly",
    run: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  });
  return { runner, lines };
}

const report = async (name: string, from = testStart) => {
  const job = {
    name,
    schedule: "* * * * * *",
    timezone: "UTC",
    dst: { repeated: "first", skipped: "shift" },
  } as const;
  return slotReport(reader, { ...job, jitterMs: 0 }, { from, to: new Date() });
};
const ledger = (reason: string) =>
  db.sql<{ job_name: string; fate: string; reason: string }[]>`
    select job_name, fate, reason from job_slots where reason like ${`%${reason}%`} order by id`;
const ran = (job: string, trigger = "schedule") =>
  db.sql`select 1 from job_runs where job_name = ${job} and trigger = ${trigger} and status = 'succeeded'`;

describe("every slot has a fate", { timeout: 120_000 }, () => {
  let { runner, lines } = daemon();

  it("database unreachable: caught up by catchUp all, dropped by catchUp none and past the grace", async () => {
    await runner.start();
    await waitFor(async () => (await ran("none")).length > 0, 10_000, "a first run");
    await proxy.cut();
    // Three slots come and go while no claim reaches the database.
    await waitFor(
      () => lines.filter((line) => line.includes("claiming slots failed")).length >= 3,
      10_000,
      "three slots during the outage",
    );
    await proxy.restore();
    await waitFor(async () => (await ran("all", "catch-up")).length >= 2, 20_000, "the catch-up");
    await waitFor(
      async () => new Set((await ledger("database unreachable")).map((r) => r.job_name)).size >= 2,
      10_000,
      "the ledger written once the database is back",
    );
    await waitFor(async () => (await ledger("outside misfireGraceSeconds")).length > 0, 10_000, "the grace");

    const all = await report("all");
    expect(all.ranges.find((r) => r.fate === "caught-up")?.reason).toBe(
      "succeeded; missed: database unreachable",
    );
    const none = await report("none");
    expect(none.ranges.find((r) => r.fate === "dropped")?.reason).toBe(
      "catchUp none; missed: database unreachable",
    );
    // The outage's slots of a job are one ledger row, though written after several failed tries.
    expect(await ledger("catchUp none; missed: database unreachable")).toHaveLength(1);
    const graceful = await report("graceful");
    expect(graceful.ranges.find((r) => r.fate === "dropped")?.reason).toBe(
      "outside misfireGraceSeconds (1s)",
    );
  });

  it("event loop blocked: the late slots are caught up or dropped, saying why", async () => {
    const before = new Date();
    await (await runner.triggerJob("blocker")).done;
    await waitFor(async () => (await ledger("event loop blocked")).length >= 2, 10_000, "the late slots");
    const none = await report("none", before);
    expect(none.ranges.find((r) => r.fate === "dropped")?.reason).toBe(
      "catchUp none; missed: event loop blocked",
    );
    // The caught-up run is recorded once it has run and its outcome is written: wait for it.
    const caughtUp = await waitFor(
      async () => (await report("all", before)).ranges.find((r) => r.fate === "caught-up"),
      10_000,
      "the caught-up run",
    );
    expect(caughtUp.reason).toBe("succeeded; missed: event loop blocked");
  });

  it("daemon down: the slots no replica was up for are missed, runner down, and explain says so", async () => {
    await runner.stop();
    const stoppedAt = Date.now();
    await waitFor(() => Date.now() - stoppedAt > 3500, 10_000, "three slots with no runner");
    ({ runner, lines } = daemon());
    await runner.start();
    const restarted = new Date();
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_runs where job_name = 'none' and started_at > ${restarted}`).length,
      10_000,
      "a run after the restart",
    );
    await runner.stop();
    const none = await report("none", new Date(stoppedAt - 1500));
    const down = none.ranges.find((r) => r.fate === "missed" && r.reason === "runner down")!;
    expect(down.count).toBeGreaterThanOrEqual(3);
    expect(none.verdict).toMatch(/(^|; )\d+ slots missed: runner down \d\d:\d\d:\d\d–\d\d:\d\d:\d\d/);

    // The same through the CLI, which knows the job from what the daemon published.
    const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema };
    const [from, to] = [new Date(stoppedAt - 1500).toISOString(), restarted.toISOString()];
    const text = await runCli(["explain", "none", "--from", from, "--to", to], env);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    const printed = text.stdout.trim().split("\n");
    expect(printed[0]).toMatch(/^none \(\* \* \* \* \* \*\) in UTC, slots after \S+ up to \S+: \d+$/);
    expect(printed).toContainEqual(
      expect.stringMatching(
        /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d–\d\d:\d\d:\d\d {2}\d+ slots {2}missed \(runner down\)$/,
      ),
    );
    expect(printed.at(-1)).toMatch(/(^|; )\d+ slots missed: runner down /);
    const json = JSON.parse(
      (await runCli(["explain", "none", "--from", from, "--to", to, "--json"], env)).stdout,
    );
    expect(json).toMatchObject({ job_name: "none", verdict: printed.at(-1) });
    const bad = await runCli(["explain", "none", "--from", "last tuesday"], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      'runner: --from: expected an ISO time with a zone (2026-12-01T02:00Z) or a duration before now (2h) (got "last tuesday")',
    ]);
  });

  it("overloaded: while a finished run waits for the database, due slots are not even claimed", async () => {
    // One run at most: once `hold` finishes during the outage, its unwritten outcome fills the room.
    ({ runner, lines } = daemon({ MAX_CONCURRENT_RUNS: "1" }));
    let overloaded = 0;
    runner.events.on("missed", ({ reason, slots }) => {
      if (reason === "overloaded") overloaded += slots;
    });
    await runner.start();
    const before = new Date();
    const held = await runner.triggerJob("hold");
    await proxy.cut();
    release();
    await waitFor(() => overloaded >= 3, 10_000, "due slots refused as overloaded");
    await proxy.restore();
    expect((await held.done).status).toBe("succeeded");
    await waitFor(async () => (await ledger("overloaded")).length > 0, 10_000, "the ledger");
    await runner.stop();
    const none = await report("none", before);
    expect(
      none.ranges.some((r) => r.fate === "dropped" && r.reason === "catchUp none; missed: overloaded"),
    ).toBe(true);
  });
});
