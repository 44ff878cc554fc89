import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("batch");
let current: Daemon | undefined;
afterEach(async () => {
  await current?.stop();
});

describe("outcomes that finish together", () => {
  it("are written together: 200 runs settling at once take a few statements, every row and count right", async () => {
    const { runner } = testRunner(db.sql);
    current = runner;
    for (let i = 0; i < 200; i++)
      runner.registerJob({
        name: `n${i}`,
        schedule: "@yearly",
        run: () => (i % 2 ? "ok" : Promise.reject(new Error("no"))),
      });
    const { store } = await runner.connect();
    const batches: number[] = [];
    const write = store.finishRuns.bind(store);
    store.finishRuns = (runs) => {
      batches.push(runs.length);
      return write(runs);
    };
    const finished: number[] = [];
    runner.events.on("finished", (run) => finished.push(run.failures?.current ?? -1));
    const started = await Promise.all(Array.from({ length: 200 }, (_, i) => runner.triggerJob(`n${i}`)));
    await Promise.all(started.map((run) => run.done));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(200);
    expect(batches.length).toBeLessThan(20);
    const rows =
      await db.sql`select status, count(*)::int as n from job_runs group by status order by status`;
    expect(rows).toEqual([
      { status: "failed", n: 100 },
      { status: "succeeded", n: 100 },
    ]);
    expect(finished.filter((n) => n === 1)).toHaveLength(100);
    expect(finished.filter((n) => n === 0)).toHaveLength(100);
  });

  it("wait to be gathered, yet a run that just finished is not taken for one going on by its job's next claim", async () => {
    const { runner } = testRunner(db.sql);
    current = runner;
    let calls = 0;
    // overlap skip (the default): a claim skips the slot while a run of the job reads `running`.
    runner.registerJob({ name: "quick", schedule: "@yearly", run: () => void calls++ });
    const { executor } = await runner.connect();
    const job = runner.registry.get("quick")!;
    const first = new Date(Date.now() - 100);
    await executor.fireSlots([{ job, instant: first, trigger: "schedule" }]);
    await waitFor(() => calls === 1);
    // Finished, its outcome waiting for its batch: the row still reads running.
    const [before] = await db.sql`select status from job_runs where scheduled_for = ${first}`;
    expect(before!.status).toBe("running");
    const second = new Date(first.getTime() + 1);
    const [next] = await executor.fireSlots([{ job, instant: second, trigger: "schedule" }]);
    expect(await next!.done).toMatchObject({ status: "succeeded" });
    const rows = await db.sql`select status from job_runs where job_name = 'quick' order by scheduled_for`;
    expect(rows.map((row) => row.status)).toEqual(["succeeded", "succeeded"]);
  });
});
