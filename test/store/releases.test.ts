import { describe, expect, it } from "vitest";
import { createPool } from "../../src/store/pool.js";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

// Item 16's hand-over in the database: a stopping replica gives back claims it has not started,
// and each released slot is taken by exactly one replica that has the job.
const db = await testDatabase("releases");
const slot = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s));
const claim = (store: Store, job: string, at: Date) =>
  store.claimSlots([{ jobName: job, scheduledFor: at, trigger: "schedule", skipOverlap: true }]);

describe("released slots", () => {
  it("frees the slot key and lists the slot; only running first attempts of this replica are released", async () => {
    const a = new Store(db.sql, "a", 30);
    const b = new Store(db.sql, "b", 30);
    const [mine] = (await claim(a, "job", slot(1))) as { id: string }[];
    const [theirs] = (await claim(b, "job", slot(2))) as { id: string }[];
    await db.sql`update job_runs set status = 'succeeded' where scheduled_for = ${slot(2)}`;
    const released = await a.releaseClaims([mine!.id, theirs!.id]);
    expect(released).toEqual([{ job_name: "job", scheduled_for: slot(1) }]);
    expect(
      (await db.sql`select scheduled_for from job_runs where job_name = 'job'`).map((r) => r.scheduled_for),
    ).toEqual([slot(2)]);
    // The key is free: the slot can be claimed again.
    expect(await claim(b, "job", slot(1))).toHaveLength(1);
    await db.sql`delete from job_released_slots`;
  });

  it("gives each released slot to exactly one of many replicas taking at once, and only to one that has the job", async () => {
    await db.sql`insert into job_released_slots (job_name, scheduled_for, released_by)
      select 'shared', ${slot(0)}::timestamptz + make_interval(secs => i), 'gone' from generate_series(1, 50) as i`;
    await db.sql`insert into job_released_slots (job_name, scheduled_for, released_by) values ('other', ${slot(0)}, 'gone')`;
    const pools = Array.from({ length: 6 }, () => createPool(db.url, db.schema, 1));
    try {
      const taken = await Promise.all(
        pools.map((pool, i) =>
          new Store(pool, `r${i}`, 30).takeReleased((name: string) => name === "shared", 10),
        ),
      );
      const again = await new Store(db.sql, "late", 30).takeReleased(
        (name: string) => name === "shared",
        1000,
      );
      const all = [...taken.flat(), ...again].map((row) => row.scheduled_for.toISOString());
      expect(all).toHaveLength(50);
      expect(new Set(all).size).toBe(50);
      expect(taken.flat().every((row) => row.job_name === "shared")).toBe(true);
      // A replica without the job leaves its slot for one that has it.
      expect(await db.sql`select job_name from job_released_slots`).toEqual([{ job_name: "other" }]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
