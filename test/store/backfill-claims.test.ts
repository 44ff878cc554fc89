import { describe, expect, it } from "vitest";
import type { BackfillClaim } from "../../src/store/backfills.js";
import { createPool } from "../../src/store/pool.js";
import { MAX_OPEN_BACKFILLS, Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("bfclaims");
const store = new Store(db.sql, "claimer", 30);
const at = (hour: number, day = 1) => new Date(Date.UTC(2026, 4, day, hour));
const since = new Date("2026-06-01T00:00:00Z");
const claim = (jobName: string, slots: Date[], more: Partial<BackfillClaim> = {}, by = store) =>
  by.backfills.claim({
    jobName,
    from: at(0),
    to: at(23),
    since,
    slots,
    concurrency: 100,
    skipOverlap: false,
    spacingSeconds: 0,
    ...more,
  });
const insert = (job: string, slot: Date, attempt: number, status: string, startedAt = "2026-05-02T00:00Z") =>
  db.sql`insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at)
         values (${job}, ${slot}, 'schedule', ${attempt}, ${status}, 'earlier', ${startedAt})`;
const finish = (job: string) => db.sql`update job_runs set status = 'succeeded' where job_name = ${job}`;

describe("backfill claims (one statement under the slot key)", () => {
  it("gives a slot to exactly one of many concurrent claimers", async () => {
    const pools = Array.from({ length: 8 }, () => createPool(db.url, db.schema, 2));
    try {
      const results = await Promise.all(
        pools.map((pool, i) => claim("race", [at(1), at(2), at(3)], {}, new Store(pool, `racer-${i}`, 30))),
      );
      expect(
        results
          .flat()
          .map((row) => row.scheduled_for.toISOString())
          .sort(),
      ).toEqual([at(1), at(2), at(3)].map((slot) => slot.toISOString()));
      expect(await db.sql`select 1 from job_runs where job_name = 'race'`).toHaveLength(3);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("takes the slot's next attempt; skips succeeded, running and recently failed slots", async () => {
    await insert("next", at(1), 1, "failed");
    await insert("next", at(1), 2, "abandoned");
    await insert("next", at(2), 1, "succeeded");
    await insert("next", at(3), 1, "running");
    await insert("next", at(4), 1, "failed", "2026-06-02T00:00Z"); // since the backfill began
    await insert("next", at(5), 1, "skipped");
    const claimed = await claim("next", [at(1), at(2), at(3), at(4), at(5), at(6)]);
    expect(claimed.map((row) => [row.scheduled_for.getUTCHours(), row.attempt])).toEqual([
      [1, 3],
      [5, 2],
      [6, 1],
    ]);
    const [row] = await db.sql`select trigger, status, runner_id from job_runs where id = ${claimed[0]!.id}`;
    expect(row).toEqual({ trigger: "backfill", status: "running", runner_id: "claimer" });
  });

  it("honours concurrency over the window, overlap skip, the job's concurrency and its group", async () => {
    expect(await claim("conc", [at(1), at(2), at(3)], { concurrency: 2 })).toHaveLength(2);
    expect(await claim("conc", [at(3)], { concurrency: 2 })).toHaveLength(0);
    // A run outside the window does not count against the window's concurrency...
    await insert("conc", at(5, 9), 1, "running");
    await finish("conc");
    await insert("conc", at(5, 9), 2, "running");
    expect(await claim("conc", [at(3), at(4), at(5)], { concurrency: 2 })).toHaveLength(2);
    await finish("conc");
    // ...but it does against the job's own limit and overlap skip.
    await insert("conc", at(6, 9), 1, "running");
    expect(await claim("conc", [at(6), at(7)], { maxRunning: 2 })).toHaveLength(1);
    expect(await claim("conc", [at(7)], { skipOverlap: true })).toHaveLength(0);
    await insert("other", at(1), 1, "running");
    const group = { max: 2, jobs: ["grouped", "other"] };
    expect(await claim("grouped", [at(1), at(2)], { group })).toHaveLength(1);
    expect(await claim("grouped", [at(2)], { group })).toHaveLength(0);
  });

  it("spaces starts by the rate, and claims nothing for a paused job", async () => {
    expect(await claim("rated", [at(1)], { spacingSeconds: 3600 })).toHaveLength(1);
    await finish("rated");
    expect(await claim("rated", [at(2)], { spacingSeconds: 3600 })).toHaveLength(0);
    expect(await claim("rated", [at(2)], { spacingSeconds: 0 })).toHaveLength(1);
    await db.sql`insert into job_state (job_name, paused) values ('halted', true)`;
    expect(await claim("halted", [at(1)])).toHaveLength(0);
    expect(await store.backfills.paused("halted")).toBe(true);
  });

  it("keeps at most MAX_OPEN_BACKFILLS open requests per job", async () => {
    const window = { from: at(0), to: at(1), concurrency: 1, rate: null };
    for (let i = 0; i < MAX_OPEN_BACKFILLS; i++)
      expect(await store.backfills.request("busy", window, "ops")).toMatch(/^\d+$/);
    expect(await store.backfills.request("busy", window, "ops")).toBeNull();
    expect(await store.backfills.request("quiet", window, "ops")).toMatch(/^\d+$/);
    const [first] = await store.backfills.open((name: string) => name === "busy");
    await store.backfills.finish(first!.id, { slots: 2 });
    expect(await store.backfills.request("busy", window, "ops")).toMatch(/^\d+$/);
  });
});
