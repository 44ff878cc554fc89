import { describe, expect, it } from "vitest";
import { createPool } from "../../src/store/pool.js";
import { Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("claims");
const slot = new Date("2026-06-01T12:00:00Z");

describe("slot claims", () => {
  it("gives a slot to exactly one of many concurrent claimers", async () => {
    const pools = Array.from({ length: 8 }, () => createPool(db.url, db.schema, 2));
    try {
      const results = await Promise.all(
        pools.map((pool, i) =>
          new Store(pool, `runner-${i}`, 30).claimSlots([
            { jobName: "race", scheduledFor: slot, trigger: "schedule", skipOverlap: true },
          ]),
        ),
      );
      const winners = results.filter((rows) => rows.length === 1);
      expect(winners).toHaveLength(1);
      const rows = await db.sql`select runner_id, status from job_runs where job_name = 'race'`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.status).toBe("running");
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("claims many jobs' slots in one statement and returns only the new ones", async () => {
    const store = new Store(db.sql, "r1", 30);
    const names = Array.from({ length: 500 }, (_, i) => `bulk-${i}`);
    const claims = names.map((jobName) => ({
      jobName,
      scheduledFor: slot,
      trigger: "schedule" as const,
      skipOverlap: false,
    }));
    expect(await store.claimSlots(claims)).toHaveLength(500);
    expect(await new Store(db.sql, "r2", 30).claimSlots(claims)).toHaveLength(0);
  });

  it("records a slot as skipped while the job is still running anywhere (overlap skip)", async () => {
    const a = new Store(db.sql, "a", 30);
    const b = new Store(db.sql, "b", 30);
    await a.claimSlots([{ jobName: "long", scheduledFor: slot, trigger: "schedule", skipOverlap: true }]);
    const next = new Date(slot.getTime() + 60_000);
    const [row] = await b.claimSlots([
      { jobName: "long", scheduledFor: next, trigger: "schedule", skipOverlap: true },
    ]);
    expect(row?.status).toBe("skipped");
    const [stored] =
      await db.sql`select status, error, runner_id from job_runs where job_name = 'long' and scheduled_for = ${next}`;
    expect(stored).toMatchObject({ status: "skipped", runner_id: "b" });
    expect(stored!.error).toMatch(/overlap/);
  });

  it("does not claim the slots of a paused job, and says who paused them (for the slot ledger)", async () => {
    const store = new Store(db.sql, "r1", 30);
    await store.setPaused("sleepy", true, "test");
    expect(
      await store.claimSlots([
        { jobName: "sleepy", scheduledFor: slot, trigger: "schedule", skipOverlap: true },
      ]),
    ).toEqual([
      { id: null, job_name: "sleepy", scheduled_for: slot, status: "paused", error: "paused by test" },
    ]);
    expect(await db.sql`select id from job_runs where job_name = 'sleepy'`).toHaveLength(0);
    await store.setPaused("sleepy", false, "test");
    expect(
      await store.claimSlots([
        { jobName: "sleepy", scheduledFor: slot, trigger: "schedule", skipOverlap: true },
      ]),
    ).toHaveLength(1);
  });

  it("reaps a run whose lease expired and counts it as a failure", async () => {
    const store = new Store(db.sql, "dead", 30);
    const id = await store.insertRun({
      jobName: "orphan",
      trigger: "manual",
      attempt: 1,
      scheduledFor: null,
      params: {},
    });
    await db.sql`update job_runs set lease_until = now() - interval '1 second' where id = ${id}`;
    const reaped = await new Store(db.sql, "alive", 30).reapAbandoned();
    expect(reaped).toEqual([{ id, job_name: "orphan", runner_id: "dead", consecutive_failures: 1 }]);
    const [run] = await db.sql`select status, error from job_runs where id = ${id}`;
    expect(run!.status).toBe("abandoned");
    expect(run!.error).toMatch(/dead stopped renewing its lease/);
    expect(await new Store(db.sql, "alive", 30).reapAbandoned()).toEqual([]);
  });

  it("hands a trigger request to exactly one replica", async () => {
    const store = new Store(db.sql, "cli", 30);
    await store.requestTrigger({
      jobName: "once-only",
      params: { day: "2026-01-01" },
      trigger: "manual",
      requestedBy: "test",
    });
    const pools = Array.from({ length: 4 }, () => createPool(db.url, db.schema, 1));
    try {
      const taken = await Promise.all(
        pools.map((pool, i) =>
          new Store(pool, `r${i}`, 30).claimTriggers((name: string) => name === "once-only"),
        ),
      );
      expect(taken.flat()).toHaveLength(1);
      expect(taken.flat()[0]!.params).toEqual({ day: "2026-01-01" });
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("leaves a trigger request to the replicas that know its job", async () => {
    const store = new Store(db.sql, "cli", 30);
    await store.requestTrigger({ jobName: "elsewhere", params: {}, trigger: "manual", requestedBy: "test" });
    const other = new Store(db.sql, "other", 30);
    expect(await other.claimTriggers((name: string) => name === "mine")).toEqual([]);
    const [taken] = await other.claimTriggers((name: string) => name === "elsewhere" || name === "mine");
    expect(taken).toMatchObject({ job_name: "elsewhere" });
  });

  it("returns the first request for a repeated idempotency key", async () => {
    const store = new Store(db.sql, "api", 30);
    const first = await store.requestTrigger({
      jobName: "idem",
      params: {},
      trigger: "http",
      requestedBy: "t",
      idempotencyKey: "k1",
    });
    const second = await store.requestTrigger({
      jobName: "idem",
      params: {},
      trigger: "http",
      requestedBy: "t",
      idempotencyKey: "k1",
    });
    expect(second).toEqual({ id: first.id, runId: null, duplicate: true });
    expect(first.duplicate).toBe(false);
  });
});
