import { describe, expect, it } from "vitest";
import { ConsoleStore } from "../../src/store/console.js";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("console_store");
const store = new ConsoleStore(db.sql);

/**
 * 130 runs of "paged", every third failed, started in pairs at the same instant (ties broken by
 * id), and 30 runs of "other", interleaved.
 */
await db.sql`
  insert into job_runs (job_name, trigger, attempt, status, runner_id, started_at, finished_at, duration_ms, error)
  select case when g % 5 = 0 and g <= 150 then 'other' else 'paged' end, 'manual', 1,
    case when g % 3 = 0 then 'failed' else 'succeeded' end, 'r1',
    timestamptz '2026-11-01 00:00Z' + (g / 2) * interval '1 minute', now(), g,
    case when g % 3 = 0 then 'boom ' || g end
  from generate_series(1, 160) as g`;

const all = async (job: string, status?: "failed") => {
  const pages: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.history(job, { status, before, limit: 50 });
    pages.push(page.map((run) => run.id));
    if (page.length < 50) return pages;
    before = page.at(-1)!.id;
  }
};

describe("the console's reads of job_runs", () => {
  it("pages a job's history by keyset: newest first, every run once, ties by id, none of another job", async () => {
    const expected = await db.sql<{ id: string }[]>`
      select id::text from job_runs where job_name = 'paged' order by started_at desc, id desc`;
    const pages = await all("paged");
    expect(pages.map((page) => page.length)).toEqual([50, 50, 30]);
    expect(pages.flat()).toEqual(expected.map((row) => row.id));
  });

  it("filters by status through the pages as well", async () => {
    const expected = await db.sql<{ id: string }[]>`
      select id::text from job_runs where job_name = 'paged' and status = 'failed' order by started_at desc, id desc`;
    expect((await all("paged", "failed")).flat()).toEqual(expected.map((row) => row.id));
    expect(expected.length).toBeGreaterThan(0);
  });

  it("gives each job's newest runs for its strip, oldest first, at most the number asked", async () => {
    const runs = await store.strips(["other", "paged", "nothing"], 20);
    const other = runs.filter((run) => run.job_name === "other");
    expect(other).toHaveLength(20);
    expect(runs.filter((run) => run.job_name === "paged")).toHaveLength(20);
    const newest = await db.sql<{ id: string }[]>`
      select id::text from job_runs where job_name = 'other' order by started_at desc, id desc limit 20`;
    expect(other.map((run) => run.id)).toEqual(newest.map((row) => row.id).reverse());
  });

  it("keeps the stack of a thrown error with its run, and when the run was claimed", async () => {
    const runs = new Store(db.sql, "r1", 60);
    const id = await runs.insertRun({
      jobName: "stacked",
      trigger: "manual",
      attempt: 1,
      scheduledFor: null,
      params: {},
    });
    await runs.finishRun(id, "stacked", {
      status: "failed",
      error: "boom",
      errorStack: "Error: boom\n    at handler (jobs.mjs:3:9)",
      durationMs: 4,
    });
    const run = await store.run(id);
    expect(run).toMatchObject({
      status: "failed",
      error: "boom",
      error_stack: "Error: boom\n    at handler (jobs.mjs:3:9)",
    });
    expect(run!.claimed_at).toBeInstanceOf(Date);
  });
});
