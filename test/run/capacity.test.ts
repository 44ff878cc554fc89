import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("capacity");
const daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  await db.sql`truncate job_runs, job_heartbeats, job_state cascade`;
});

/** Per-second jobs whose handlers hold for `holdMs`, counting how many run at once per replica. */
function replica(id: string, maxRuns: number, jobs: number, holdMs: number) {
  const made = testRunner(db.sql, {
    JOB_RUNNER_ID: id,
    MAX_CONCURRENT_RUNS: String(maxRuns),
    LOG_LEVEL: "warn",
  });
  const load = { now: 0, max: 0, runs: 0 };
  for (let i = 0; i < jobs; i++)
    made.runner.registerJob({
      name: `busy-${i}`,
      schedule: "* * * * * *",
      overlap: "allow",
      catchUp: "none",
      run: async () => {
        load.runs++;
        load.max = Math.max(load.max, ++load.now);
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        load.now--;
      },
    });
  daemons.push(made.runner);
  return { ...made, load };
}

/**
 * Wait until every slot of `seconds` seconds from `fromMs` has its row (`jobs` a second): the
 * window's last slots are settled once their on-time tolerance (2 s) has passed.
 */
async function windowSettled(fromMs: number, seconds: number, jobs: number) {
  const from = new Date(fromMs);
  const to = new Date(fromMs + seconds * 1000);
  await waitFor(
    async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from job_runs where scheduled_for >= ${from} and scheduled_for < ${to}`;
      return Date.now() > to.getTime() + 2500 && row!.n === jobs * seconds;
    },
    20_000,
    "a row for every slot of the window",
  );
  return { from, to };
}

const fates = () =>
  db.sql<{ runner_id: string; status: string; error: string | null; n: number }[]>`
    select runner_id, status, error, count(*)::int as n from job_runs group by 1, 2, 3 order by 1, 2`;

describe("MAX_CONCURRENT_RUNS", () => {
  it("bounds one replica's handlers and records the slots it had no room for as missed at capacity", async () => {
    const one = replica("solo", 3, 5, 1500);
    const metrics = await metricsOf(one.runner);
    await one.runner.start();
    await waitFor(
      async () => (await fates()).some((f) => f.error?.startsWith("missed: at capacity")),
      10_000,
    );
    await waitFor(() => one.load.runs >= 6, 10_000);
    // Every slot of a window has its one row: run, or recorded missed once its tolerance ended.
    await windowSettled(Math.ceil(Date.now() / 1000) * 1000, 3, 5);
    await one.runner.stop();
    expect(one.load.max).toBeLessThanOrEqual(3);
    const lines = one.lines.filter((line) => line.includes("slots missed"));
    expect(lines.length).toBe(1);
    const [row] = (await fates()).filter((f) => f.error?.startsWith("missed: at capacity"));
    expect(await metrics.render()).toMatch(
      new RegExp(`^runner_slots_missed_total\\{reason="at capacity"\\} ${row!.n}$`, "m"),
    );
  });

  it("lets a second replica take the slots the first had no room for", async () => {
    const a = replica("a", 3, 5, 1500);
    const b = replica("b", 3, 5, 1500);
    await Promise.all([a.runner.start(), b.runner.start()]);
    await waitFor(() => a.load.runs >= 4 && b.load.runs >= 4, 15_000, "both replicas running slots");
    expect(a.load.max).toBeLessThanOrEqual(3);
    expect(b.load.max).toBeLessThanOrEqual(3);
    const dupes =
      await db.sql`select job_name, scheduled_for from job_runs group by 1, 2 having count(*) > 1`;
    expect(dupes).toEqual([]);
  });

  it("leaves what a full replica cannot run to one with room within the instant, and records none missed while there was room", async () => {
    // 6 jobs holding 2 s need 12 runs at once, and 18 for a moment at each instant (the runs of
    // two seconds ago end just after it): more than one replica's 8, less than two replicas' 16
    // once a slot can wait for room until its on-time tolerance ends.
    const a = replica("a", 8, 6, 2000);
    const b = replica("b", 8, 6, 2000);
    await Promise.all([a.runner.start(), b.runner.start()]);
    await waitFor(() => a.load.runs > 0 && b.load.runs > 0, 10_000, "both replicas running slots");
    const { from, to } = await windowSettled(Math.ceil(Date.now() / 1000) * 1000 + 3000, 5, 6);
    const rows = await db.sql<{ runner_id: string; status: string; n: number }[]>`
      select runner_id, status, count(*)::int as n from job_runs
      where scheduled_for >= ${from} and scheduled_for < ${to} group by 1, 2 order by 1, 2`;
    // Every slot of the window ran, none was recorded missed, the two replicas shared them.
    expect(rows.every((r) => r.status === "succeeded" || r.status === "running")).toBe(true);
    const share = (id: string) => rows.filter((r) => r.runner_id === id).reduce((n, r) => n + r.n, 0);
    expect(share("a") + share("b")).toBe(30);
    expect(Math.min(share("a"), share("b"))).toBeGreaterThanOrEqual(8);
    expect(Math.max(a.load.max, b.load.max)).toBeLessThanOrEqual(8);
    const dupes =
      await db.sql`select job_name, scheduled_for from job_runs group by 1, 2 having count(*) > 1`;
    expect(dupes).toEqual([]);
  });
});

describe("overload", () => {
  it("counts slots as missed (overloaded) while claims queue up, logs it once, and recovers when the database does", async () => {
    const one = replica("slow", 1000, 3, 10);
    const { store } = await one.runner.connect();
    let slow = true;
    const claim = store.claimSlots.bind(store);
    store.claimSlots = async (claims) => {
      if (slow) await new Promise((resolve) => setTimeout(resolve, 5000));
      return claim(claims);
    };
    const missed: number[] = [];
    one.runner.events.on("missed", (m) => m.reason === "overloaded" && missed.push(m.slots));
    await one.runner.start();
    await waitFor(() => missed.length >= 2, 10_000, "overloaded slots");
    expect(one.lines.filter((line) => line.includes("slots missed")).length).toBe(1);
    slow = false;
    const before = one.load.runs;
    await waitFor(() => one.load.runs >= before + 6, 10_000, "runs again once claims are quick");
  });
});

/** The daemon's metrics, wired before it starts (as the sidecar does). */
async function metricsOf(daemon: Daemon) {
  const { createMetrics } = await import("../../src/observe/metrics.js");
  const { StateCache } = await import("../../src/observe/state-cache.js");
  return createMetrics({
    events: daemon.events,
    liveness: daemon.liveness,
    registry: daemon.registry,
    cache: new StateCache(daemon.events),
    nextRunAt: () => undefined,
    runningCount: () => 0,
    perJob: "on",
  });
}
