import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("progress");
const store = new Store(db.sql, "r1", 30);

const start = (jobName: string) =>
  store.insertRun({ jobName, trigger: "manual", attempt: 1, scheduledFor: null, params: {} });
const progressOf = async (jobName: string) => (await store.history(jobName, 1))[0]!.progress;

describe("run progress", () => {
  it("is null until reported, then the latest report, in history and in the last finished run", async () => {
    const id = await start("crawl");
    expect(await progressOf("crawl")).toBeNull();
    await store.setProgress(id, 3, 10);
    expect(await progressOf("crawl")).toEqual({ done: 3, total: 10 });
    await store.setProgress(id, 7.5, null);
    expect(await progressOf("crawl")).toEqual({ done: 7.5, total: null });
    await store.finishRun(id, "crawl", { status: "succeeded", durationMs: 5 });
    expect((await store.lastFinishedRun("crawl"))?.progress).toEqual({ done: 7.5, total: null });
  });

  it("changes only a run still running: a late report after the end is dropped", async () => {
    const finished = await start("late");
    await store.setProgress(finished, 1, 4);
    await store.finishRun(finished, "late", { status: "failed", durationMs: 5, error: "boom" });
    await store.setProgress(finished, 4, 4);
    expect(await progressOf("late")).toEqual({ done: 1, total: 4 });

    const interrupted = await start("stopped");
    await store.markInterrupted([interrupted], "shutdown");
    await store.setProgress(interrupted, 2, 2);
    expect(await progressOf("stopped")).toBeNull();
  });

  it("touches no other run", async () => {
    const a = await start("pair-a");
    await start("pair-b");
    await store.setProgress(a, 1, 2);
    expect(await progressOf("pair-a")).toEqual({ done: 1, total: 2 });
    expect(await progressOf("pair-b")).toBeNull();
  });

  it("refuses negative and non-finite numbers, in the method and in the table", async () => {
    const id = await start("odd");
    for (const [done, total] of [
      [-1, 10],
      [Number.NaN, null],
      [1, Number.POSITIVE_INFINITY],
      [1, -2],
    ] as const)
      await expect(store.setProgress(id, done, total)).rejects.toThrow(RangeError);
    expect(await progressOf("odd")).toBeNull();
    await expect(db.sql`update job_runs set progress_done = 'NaN' where id = ${id}`).rejects.toThrow(
      /job_runs_progress_check/,
    );
    await expect(db.sql`update job_runs set progress_total = 5 where id = ${id}`).rejects.toThrow(
      /job_runs_progress_check/,
    );
  });
});
