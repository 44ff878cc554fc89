import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { testRunner } from "../helpers/runner.js";

const db = await testDatabase("catalog");
const noop = () => {};

interface Row {
  job_name: string;
  schedule: string;
  published_at: Date;
  last_seen: Date;
}
const rows = (runnerId: string) =>
  db.sql<Row[]>`select job_name, schedule, published_at, last_seen from job_catalog
    where runner_id = ${runnerId} order by job_name`;

describe("every daemon publishes the jobs it runs (job_catalog)", () => {
  it("at start, then each tick: the list only when it changed, otherwise last_seen", async () => {
    const { runner } = testRunner(db.sql, { JOB_RUNNER_ID: "replica-a", JOB_LOOP_INTERVAL_SECONDS: "7" });
    runner.registerJob({ name: "alpha", schedule: "0 6 * * *", timezone: "Europe/Paris", run: noop });
    await runner.start();
    try {
      // The loop's first tick starts with start(): let it finish, so the next tick() is a new one
      // (a tick still going is shared, and would leave last_seen where it was read).
      await runner.loop!.tick();
      const started = await rows("replica-a");
      expect(started.map((row) => [row.job_name, row.schedule])).toEqual([["alpha", "0 6 * * *"]]);

      // Nothing changed: one update moves last_seen; the published row is not rewritten.
      await runner.loop!.tick();
      const touched = await rows("replica-a");
      expect(touched[0]!.published_at).toEqual(started[0]!.published_at);
      expect(touched[0]!.last_seen.getTime()).toBeGreaterThan(started[0]!.last_seen.getTime());

      // A job added and one cancelled while running: the next tick publishes the new list.
      runner.registerJob({ name: "beta", schedule: "*/5 * * * *", run: noop });
      runner.cancelJob("alpha");
      await runner.loop!.tick();
      expect((await rows("replica-a")).map((row) => row.job_name)).toEqual(["beta"]);

      const [beta] = (await runner.store!.catalog.entries()).filter((entry) => entry.name === "beta");
      expect(beta).toMatchObject({
        schedule: "*/5 * * * *",
        timezone: "UTC",
        replicas: ["replica-a"],
        interval_seconds: 7,
      });

      // Rows deleted behind its back (a restored database) are written again at the next tick.
      await db.sql`delete from job_catalog where runner_id = 'replica-a'`;
      await runner.loop!.tick();
      expect((await rows("replica-a")).map((row) => row.job_name)).toEqual(["beta"]);
    } finally {
      await runner.stop();
    }
    // Stopped: still known (last seen), run by no live replica.
    const [after] = (await runner.store!.catalog.entries()).filter((entry) => entry.name === "beta");
    expect(after).toMatchObject({ replicas: [], interval_seconds: null });
  });

  it("lists the live replicas of a job; one past its live_until (crashed) no longer counts", async () => {
    const a = testRunner(db.sql, { JOB_RUNNER_ID: "replica-b" }).runner;
    const b = testRunner(db.sql, { JOB_RUNNER_ID: "replica-c", JOB_LOOP_INTERVAL_SECONDS: "2" }).runner;
    for (const runner of [a, b]) runner.registerJob({ name: "gamma", schedule: "0 1 * * *", run: noop });
    await a.start();
    await b.start();
    try {
      const gamma = async () => (await a.store!.catalog.entries()).find((entry) => entry.name === "gamma");
      expect(await gamma()).toMatchObject({ replicas: ["replica-b", "replica-c"], interval_seconds: 2 });
      // replica-c stops ticking without saying so (SIGKILL): once its live_until passes, it is not live.
      await db.sql`update job_catalog set live_until = now() - interval '1 second' where runner_id = 'replica-c'`;
      expect(await gamma()).toMatchObject({ replicas: ["replica-b"], interval_seconds: 60 });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
