import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { PauseStore } from "../../src/store/pauses.js";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { testRunner, waitFor } from "../helpers/runner.js";
import { slotReport } from "../../src/observe/slot-report.js";

// Every slot has a fate (#13 item 1), through a running daemon: paused slots folded into one
// ledger row, overlap skips and slots missed at capacity read from job_runs, the counter, and
// GET /v1/admin/jobs/:name/slots with its 400s, 401 and 404.
const db = await testDatabase("ledger");
const ADMIN = basic("ops", "s3cret-pass");
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Daemon;
let startedAt: Date;

interface Report {
  job_name: string;
  slots: number;
  ranges: {
    first: string;
    last: string;
    count: number;
    fate: string;
    reason: string;
    run_id: string | null;
  }[];
  verdict: string;
}

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "ledger-1",
    JOB_LOOP_INTERVAL_SECONDS: "1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "s3cret-pass",
    LOG_LEVEL: "warn",
  });
  runner = made.runner;
  runner.registerJob({ name: "tick", schedule: "* * * * * *", catchUp: "none", run: () => {} });
  runner.registerJob({ name: "off", schedule: "* * * * * *", enabled: false, run: () => {} });
  // Holds 2.5 s each: the next two slots find it running (overlap: skip).
  runner.registerJob({
    name: "slow",
    schedule: "* * * * * *",
    overlap: "skip",
    catchUp: "none",
    run: () => new Promise((resolve) => setTimeout(resolve, 2500)),
  });
  startedAt = new Date();
  await runner.start();
});
afterAll(async () => {
  await runner.stop();
});

const slots = async (job: string, query = "") => {
  const res = await made.request(`/v1/admin/jobs/${job}/slots${query}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
};
const ledgerRows = (job: string) =>
  db.sql<{ fate: string; reason: string; slot_count: number; first_slot: Date; last_slot: Date }[]>`
    select fate, reason, slot_count, first_slot, last_slot from job_slots where job_name = ${job} order by id`;
const metric = async (job: string, fate: string) =>
  Number(
    new RegExp(`^job_slots_total\\{job_name="${job}",fate="${fate}"\\} (\\d+)$`, "m").exec(
      await (await made.request("/metrics")).text(),
    )?.[1] ?? 0,
  );

describe("the slot ledger", { timeout: 60_000 }, () => {
  it("records a paused per-second job's slots as one range with who paused it, counted once each", async () => {
    await waitFor(async () => (await metric("tick", "ran")) >= 2, 10_000, "two slots of tick ran");
    await new PauseStore(db.sql).pause("tick", { by: "cli:ann@host", reason: "deploy", until: null });
    // Several seconds of paused slots, all continuing one row.
    await waitFor(
      async () => (await ledgerRows("tick")).some((r) => r.slot_count >= 4),
      15_000,
      "four paused slots",
    );
    await new PauseStore(db.sql).resume("tick");
    const resumedAt = Date.now();
    await waitFor(
      async () =>
        (
          await db.sql`select 1 from job_runs where job_name = 'tick' and status = 'succeeded'
            and scheduled_for > ${new Date(resumedAt)} and scheduled_for < now()`
        ).length > 0,
      10_000,
      "tick runs again",
    );
    const rows = await ledgerRows("tick");
    expect(rows.map((r) => [r.fate, r.reason])).toEqual([["paused", "paused by cli:ann@host: deploy"]]);
    const row = rows[0]!;
    expect(row.slot_count).toBe((row.last_slot.getTime() - row.first_slot.getTime()) / 1000 + 1);
    await waitFor(async () => (await metric("tick", "paused")) === row.slot_count, 5000, "the counter");

    const report = await slots("tick", `?from=${startedAt.toISOString()}`);
    const paused = report.ranges.find((r) => r.fate === "paused")!;
    expect(paused).toMatchObject({ count: row.slot_count, reason: "paused by cli:ann@host: deploy" });
    expect(paused.first).toBe(row.first_slot.toISOString());
    // Ran before and after the pause; the verdict names the paused slots.
    const fates = report.ranges.map((r) => r.fate).filter((f) => f !== "pending");
    expect(fates.slice(fates.indexOf("paused") - 1, fates.indexOf("paused") + 2)).toEqual([
      "ran",
      "paused",
      "ran",
    ]);
    expect(report.verdict).toMatch(
      new RegExp(`^${row.slot_count} slots paused: paused by cli:ann@host: deploy \\d\\d:\\d\\d:\\d\\d–`),
    );
  });

  it("reads overlap skips and slots missed at capacity from job_runs", async () => {
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_runs where job_name = 'slow' and error like '%overlap: skip%'`)
          .length > 0,
      10_000,
      "an overlap skip",
    );
    const report = await slots("slow", `?from=${startedAt.toISOString()}`);
    const skipped = report.ranges.find((r) => r.fate === "skipped")!;
    expect(skipped.reason).toBe("previous run still running (overlap: skip)");
    expect(report.ranges.some((r) => r.fate === "ran" && r.run_id !== null)).toBe(true);
    expect(await metric("slow", "skipped")).toBeGreaterThan(0);
  });

  it("reads slots no replica had room for (MAX_CONCURRENT_RUNS) as missed at capacity", async () => {
    const crowded = testRunner(db.sql, {
      JOB_RUNNER_ID: "crowded",
      MAX_CONCURRENT_RUNS: "1",
      JOB_LOOP_INTERVAL_SECONDS: "1",
      LOG_LEVEL: "warn",
    });
    for (const name of ["crowd-a", "crowd-b", "crowd-c"])
      crowded.runner.registerJob({
        name,
        schedule: "* * * * * *",
        overlap: "allow",
        catchUp: "none",
        run: () => new Promise((resolve) => setTimeout(resolve, 1500)),
      });
    await crowded.runner.start();
    try {
      const row = await waitFor(
        async () =>
          (
            await db.sql<{ job_name: string; scheduled_for: Date }[]>`
              select job_name, scheduled_for from job_runs where job_name like 'crowd-%' and error like 'missed: at capacity%' limit 1`
          )[0],
        15_000,
        "a slot missed at capacity",
      );
      const job = crowded.runner.registry.require(row.job_name);
      const around = { from: new Date(row.scheduled_for.getTime() - 1), to: row.scheduled_for };
      const report = await slotReport(crowded.runner.store!, job, around);
      expect(report.ranges).toMatchObject([{ fate: "missed", reason: "at capacity", count: 1 }]);
    } finally {
      await crowded.runner.stop();
    }
  });

  it("answers 400 naming the parameter, 401 without credentials, 404 for an unknown job", async () => {
    const answer = async (path: string, headers: Record<string, string> = ADMIN) => {
      const res = await made.request(path, { headers });
      return [res.status, ((await res.json()) as { error?: string }).error];
    };
    expect(await answer("/v1/admin/jobs/tick/slots?from=yesterday")).toEqual([
      400,
      'from: expected an ISO time with a zone (2026-12-01T02:00Z) or a duration before now (2h) (got "yesterday")',
    ]);
    expect((await answer("/v1/admin/jobs/tick/slots?to=2026-13-01T00:00Z"))[0]).toBe(400);
    expect(await answer("/v1/admin/jobs/tick/slots?from=1h&to=2h")).toEqual([400, "from: must be before to"]);
    // A window of more than a million per-second slots, within the job's life.
    await db.sql`update job_state set first_seen_at = now() - interval '40 days' where job_name = 'slow'`;
    expect(await answer("/v1/admin/jobs/slow/slots?from=30d")).toEqual([
      400,
      "from/to: the window holds more than 1000000 planned instants; ask for a shorter one",
    ]);
    expect((await answer("/v1/admin/jobs/tick/slots", {}))[0]).toBe(401);
    // A disabled job's slots are never claimed; the verdict says why.
    expect((await slots("off")).verdict).toMatch(/^the job is disabled \(enabled: false\); /);
    expect(await answer("/v1/admin/jobs/nope/slots")).toEqual([404, 'unknown job "nope"']);
  });

  it("reads the ledger of a window page by page, rows of the same first slot included", async () => {
    const store = new Store(db.sql, "reader", 30);
    const base = Date.UTC(2026, 0, 1);
    await db.sql`insert into job_slots (job_name, first_slot, last_slot, slot_count, fate, reason, recorded_by)
      select 'paged', to_timestamp(${base / 1000} + (i / 2) * 10), to_timestamp(${base / 1000} + (i / 2) * 10 + 5),
        6, case when i % 2 = 0 then 'missed' else 'dropped' end, 'x', 'r'
      from generate_series(0, 6) as i`;
    const [from, to] = [new Date(base - 1000), new Date(base + 3_600_000)];
    const seen: string[] = [];
    let after: Awaited<ReturnType<typeof store.slots.ledger>>[number] | null = null;
    for (let page = await store.slots.ledger("paged", from, to, null, 2); page.length > 0; ) {
      seen.push(...page.map((r) => `${(r.first_slot.getTime() - base) / 1000}:${r.fate}`));
      after = page.at(-1)!;
      page = await store.slots.ledger("paged", from, to, after, 2);
    }
    expect(seen).toEqual([
      "0:missed",
      "0:dropped",
      "10:missed",
      "10:dropped",
      "20:missed",
      "20:dropped",
      "30:missed",
    ]);
  });
});
