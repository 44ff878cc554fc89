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

  it("are written first when a claim's overlap check would count them: a run that just finished is not taken for one going on", async () => {
    const { runner } = testRunner(db.sql);
    current = runner;
    let next: Promise<{ done: Promise<unknown> }[]> | undefined;
    const job = () => runner.registry.get("quick")!;
    const { executor } = await runner.connect();
    // Claimed just ahead of its instant, as the scheduler does: the handler returns inside the
    // instant's claim window, so its outcome's write waits for the window's end (claim-windows.ts).
    const first = new Date(Date.now() + 20);
    const second = new Date(first.getTime() + 1);
    // overlap skip (the default): a claim skips the slot while a run of the job reads `running`.
    // The next slot is claimed as soon as this handler has returned, while its outcome waits.
    runner.registerJob({
      name: "quick",
      schedule: "@yearly",
      run: () => {
        if (!next)
          queueMicrotask(() => {
            next = executor!.fireSlots([{ job: job(), instant: second, trigger: "schedule" }]);
          });
      },
    });
    const [run] = await executor!.fireSlots([{ job: job(), instant: first, trigger: "schedule" }]);
    await run!.done;
    await waitFor(() => next);
    const [nextRun] = await next!;
    expect(await nextRun!.done).toMatchObject({ status: "succeeded" });
    const rows = await db.sql`select status from job_runs where job_name = 'quick' order by scheduled_for`;
    expect(rows.map((row) => row.status)).toEqual(["succeeded", "succeeded"]);
  });
});
