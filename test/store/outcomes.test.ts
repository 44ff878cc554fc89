import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("outcomes");
const store = new Store(db.sql, "outcomes-test", 30);

const start = (jobName: string) =>
  store.insertRun({ jobName, trigger: "manual", attempt: 1, scheduledFor: null, params: {} });
const heartbeat = async (name: string) =>
  (
    await db.sql`select consecutive_failures, last_error, last_success_at from job_heartbeats where name = ${name}`
  )[0];

describe("outcomes written in batches", () => {
  it("writes every row and each job's heartbeat in one statement, with each run's failure counts in order", async () => {
    const a: string[] = [];
    for (let i = 0; i < 5; i++) a.push(await start("a"));
    const b = await start("b");
    const counts = await store.finishRuns([
      { id: a[0]!, jobName: "a", outcome: { status: "failed", error: "one", durationMs: 1 } },
      { id: a[1]!, jobName: "a", outcome: { status: "timed_out", durationMs: 2 } },
      { id: b, jobName: "b", outcome: { status: "interrupted", error: "stop", durationMs: 3 } },
      { id: a[2]!, jobName: "a", outcome: { status: "succeeded", result: { n: 1 }, durationMs: 4 } },
      { id: a[3]!, jobName: "a", outcome: { status: "failed", error: "two", durationMs: 5 } },
      { id: a[4]!, jobName: "a", outcome: { status: "failed", error: "three", durationMs: 6 } },
      { id: "999999999", jobName: "a", outcome: { status: "succeeded", durationMs: 7 } },
    ]);
    expect(counts).toEqual([
      { previous: 0, current: 1 },
      { previous: 1, current: 2 },
      { previous: 0, current: 0 },
      { previous: 2, current: 0 },
      { previous: 0, current: 1 },
      { previous: 1, current: 2 },
      undefined,
    ]);
    const rows =
      await db.sql`select id::text, status, error, result, duration_ms from job_runs where job_name = 'a' order by id`;
    expect(rows.map((r) => [r.status, r.error, r.duration_ms])).toEqual([
      ["failed", "one", 1],
      ["timed_out", null, 2],
      ["succeeded", null, 4],
      ["failed", "two", 5],
      ["failed", "three", 6],
    ]);
    expect(rows[2]!.result).toEqual({ n: 1 });
    expect(await heartbeat("a")).toMatchObject({ consecutive_failures: 2, last_error: "three" });
    expect((await heartbeat("a"))!.last_success_at).toBeInstanceOf(Date);
    expect(await heartbeat("b")).toMatchObject({ consecutive_failures: 0, last_error: null });
  });

  it("adds failures to a job's count across batches, and a success resets it", async () => {
    const first = await start("c");
    await store.finishRuns([
      { id: first, jobName: "c", outcome: { status: "failed", error: "x", durationMs: 1 } },
    ]);
    const [second, third] = [await start("c"), await start("c")];
    expect(
      await store.finishRuns([
        { id: second, jobName: "c", outcome: { status: "abandoned", durationMs: 1 } },
        { id: third, jobName: "c", outcome: { status: "failed", error: "y", durationMs: 1 } },
      ]),
    ).toEqual([
      { previous: 1, current: 2 },
      { previous: 2, current: 3 },
    ]);
    expect(await heartbeat("c")).toMatchObject({ consecutive_failures: 3, last_error: "y" });
    const fourth = await start("c");
    await store.finishRuns([{ id: fourth, jobName: "c", outcome: { status: "succeeded", durationMs: 1 } }]);
    expect(await heartbeat("c")).toMatchObject({ consecutive_failures: 0, last_error: null });
  });

  it("gives a row the reaper marked abandoned its real outcome, and leaves a finished row alone", async () => {
    const reaped = await start("d");
    await db.sql`update job_runs set status = 'abandoned' where id = ${reaped}`;
    const done = await start("d");
    await store.finishRuns([{ id: done, jobName: "d", outcome: { status: "succeeded", durationMs: 1 } }]);
    const counts = await store.finishRuns([
      { id: reaped, jobName: "d", outcome: { status: "succeeded", durationMs: 9 } },
      { id: done, jobName: "d", outcome: { status: "failed", error: "late", durationMs: 9 } },
    ]);
    expect(counts[0]).toEqual({ previous: 0, current: 0 });
    expect(counts[1]).toBeUndefined();
    const rows = await db.sql`select status from job_runs where job_name = 'd' order by id`;
    expect(rows.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
  });
});
