import type { Sql } from "postgres";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createPool } from "../../src/store/pool.js";
import type { Daemon as Runner } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("replicas");
const pools: Sql[] = [];
let runners: Runner[] = [];

afterEach(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  runners = [];
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

/** A replica with a pool of its own, as a separate process would have. */
function replica(id: string, env: Record<string, string> = {}) {
  const pool = createPool(db.url, db.schema, 3);
  pools.push(pool);
  const made = testRunner(pool, { JOB_RUNNER_ID: id, JOB_LOOP_INTERVAL_SECONDS: "1", ...env });
  runners.push(made.runner);
  return made.runner;
}

const rows = (name: string) =>
  db.sql<{ trigger: string; status: string; scheduled_for: Date | null; runner_id: string }[]>`
    select trigger, status, scheduled_for, runner_id from job_runs where job_name = ${name} order by scheduled_for nulls last, id`;

async function seenSince(name: string, minutes: number) {
  await db.sql`insert into job_state (job_name, first_seen_at) values (${name}, now() - make_interval(mins => ${minutes}))`;
}

describe("several replicas on one database", () => {
  it("runs each per-second slot exactly once across three replicas", async () => {
    const counts = new Map<string, number>();
    for (const id of ["a", "b", "c"]) {
      replica(id).registerJob({
        name: "shared-tick",
        schedule: "* * * * * *",
        catchUp: "none",
        run: (ctx) => {
          const key = ctx.scheduledFor!.toISOString();
          counts.set(key, (counts.get(key) ?? 0) + 1);
        },
      });
    }
    await Promise.all(runners.map((r) => r.start()));
    await waitFor(
      async () => (await rows("shared-tick")).filter((r) => r.status === "succeeded").length >= 4,
      10_000,
    );
    await Promise.all(runners.map((r) => r.stop()));
    const all = await rows("shared-tick");
    const slots = all.map((r) => r.scheduled_for!.toISOString());
    expect(new Set(slots).size).toBe(slots.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it("catch-up at start: all runs every missed slot, latest the newest one, none nothing", async () => {
    for (const name of ["cu-all", "cu-latest", "cu-none"]) await seenSince(name, 10);
    const r = replica("catcher");
    r.registerJob({ name: "cu-all", schedule: "* * * * *", catchUp: "all", overlap: "allow", run: () => {} });
    r.registerJob({ name: "cu-latest", schedule: "* * * * *", catchUp: "latest", run: () => {} });
    r.registerJob({ name: "cu-none", schedule: "* * * * *", catchUp: "none", run: () => {} });
    await r.start();
    const all = await waitFor(async () => {
      const got = await rows("cu-all");
      return got.length >= 10 && got.every((x) => x.status === "succeeded") ? got : undefined;
    });
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.length).toBeLessThanOrEqual(11);
    expect(all.every((x) => x.trigger === "catch-up")).toBe(true);
    const latest = await waitFor(async () =>
      (await rows("cu-latest")).length === 1 ? rows("cu-latest") : undefined,
    );
    expect(latest[0]).toMatchObject({ trigger: "catch-up" });
    expect(latest[0]!.scheduled_for!.getTime()).toBe(Math.max(...all.map((x) => x.scheduled_for!.getTime())));
    expect(await rows("cu-none")).toEqual([]);
  });

  it("never catches up a slot another replica already ran, nor one from before the job existed", async () => {
    await seenSince("cu-ran", 5);
    const newest = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await db.sql`insert into job_runs (job_name, scheduled_for, trigger, status, runner_id, finished_at)
                 values ('cu-ran', ${newest}, 'schedule', 'succeeded', 'other', now())`;
    const r = replica("late-joiner");
    r.registerJob({ name: "cu-ran", schedule: "* * * * *", run: () => {} });
    r.registerJob({ name: "cu-brand-new", schedule: "* * * * *", catchUp: "all", run: () => {} });
    await r.start();
    await r.loop!.tick();
    expect((await rows("cu-ran")).map((x) => x.runner_id)).toEqual(["other"]);
    expect(await rows("cu-brand-new")).toEqual([]);
  });

  it("hands a manual trigger to exactly one of two replicas", async () => {
    const ran: string[] = [];
    for (const id of ["t1", "t2"]) {
      replica(id).registerJob({ name: "triggered", schedule: "@yearly", run: () => void ran.push(id) });
    }
    await Promise.all(runners.map((r) => r.start()));
    await runners[0]!.store!.requestTrigger({
      jobName: "triggered",
      params: {},
      trigger: "manual",
      requestedBy: "test",
    });
    await waitFor(async () => (await rows("triggered")).some((x) => x.status === "succeeded"), 5000);
    await Promise.all(runners.map((r) => r.loop!.tick()));
    expect(await rows("triggered")).toHaveLength(1);
    expect(ran).toHaveLength(1);
  });

  it("honours a pause set by another process at the next claim, and a resume", async () => {
    const r = replica("pausable");
    r.registerJob({ name: "paused-tick", schedule: "* * * * * *", catchUp: "none", run: () => {} });
    await r.start();
    await waitFor(async () => (await rows("paused-tick")).length >= 1, 5000);
    await r.store!.setPaused("paused-tick", true, "test");
    const countAtPause = (await rows("paused-tick")).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await rows("paused-tick")).length).toBeLessThanOrEqual(countAtPause + 1);
    const status = await db.sql`select paused from job_state where job_name = 'paused-tick'`;
    expect(status[0]!.paused).toBe(true);
    await r.store!.setPaused("paused-tick", false, "test");
    const afterResume = (await rows("paused-tick")).length;
    await waitFor(async () => (await rows("paused-tick")).length > afterResume, 5000);
  });

  it("marks the run of a replica that stopped renewing its lease abandoned, and counts the failure", async () => {
    const dead = replica("dead-one", { JOB_LOOP_INTERVAL_SECONDS: "1" });
    dead.registerJob({ name: "orphaned", schedule: "@yearly", run: () => new Promise(() => {}) });
    await dead.connect();
    const run = await dead.triggerJob("orphaned");
    // The dead replica never runs a loop, so nobody renews the lease of its run.
    await db.sql`update job_runs set lease_until = now() + interval '1 second' where id = ${run.runId}`;
    const alive = replica("survivor");
    await alive.start();
    const abandoned = await waitFor(async () => {
      const [row] = await db.sql`select status, error from job_runs where id = ${run.runId}`;
      return row!.status === "abandoned" ? row : undefined;
    }, 8000);
    expect(abandoned!.error).toMatch(/dead-one stopped renewing its lease/);
    const [beat] = await db.sql`select consecutive_failures from job_heartbeats where name = 'orphaned'`;
    expect(beat!.consecutive_failures).toBe(1);
  });
});
