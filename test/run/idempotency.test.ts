import pino from "pino";
import { describe, expect, it } from "vitest";
import { RunEventBus } from "../../src/run/events.js";
import { Executor } from "../../src/run/executor.js";
import { Store } from "../../src/store/store.js";
import type { JobContext } from "../../src/types.js";
import { testDatabase } from "../helpers/db.js";
import { job } from "../helpers/jobs.js";

const db = await testDatabase("idem");

/** One replica: its own store (runner id) and executor on the shared schema. */
const replica = (id: string) =>
  new Executor(new Store(db.sql, id, 60), db.sql, pino({ level: "silent" }), new RunEventBus());

type Seen = Pick<JobContext, "runId" | "attempt" | "idempotencyKey" | "fencingToken">;
const seen = (ctx: JobContext): Seen => ({
  runId: ctx.runId,
  attempt: ctx.attempt,
  idempotencyKey: ctx.idempotencyKey,
  fencingToken: ctx.fencingToken,
});

/** A job whose first attempt fails and second succeeds, recording what each attempt saw. */
function flaky(name: string, calls: Seen[]) {
  return job({
    name,
    overlap: "allow",
    retries: { attempts: 2, backoff: "fixed", initial: "10ms" },
    run: (ctx) => {
      calls.push(seen(ctx));
      if (ctx.attempt === 1) throw new Error("first attempt fails");
    },
  });
}

describe("ctx.idempotencyKey and ctx.fencingToken", () => {
  it("a slot's key is <job>@<slot ISO> for every attempt; tokens are the row ids and grow", async () => {
    const calls: Seen[] = [];
    const instant = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000);
    const a = replica("replica-a");
    const [run] = await a.fireSlots([{ job: flaky("slotted", calls), instant, trigger: "catch-up" }]);
    expect((await run!.done).status).toBe("succeeded");
    const rows = await db.sql<{ id: string; attempt: number }[]>`
      select id::text, attempt from job_runs where job_name = 'slotted' order by id`;
    expect(calls).toEqual([
      {
        runId: rows[0]!.id,
        attempt: 1,
        idempotencyKey: `slotted@${instant.toISOString()}`,
        fencingToken: Number(rows[0]!.id),
      },
      {
        runId: rows[1]!.id,
        attempt: 2,
        idempotencyKey: `slotted@${instant.toISOString()}`,
        fencingToken: Number(rows[1]!.id),
      },
    ]);
    expect(calls[1]!.fencingToken).toBeGreaterThan(calls[0]!.fencingToken);
    await a.stop(1000);
  });

  it("another replica running the next slot gets the same key format and a larger token", async () => {
    const calls: Seen[] = [];
    const first = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
    const second = new Date(first.getTime() + 1000);
    const target = job({ name: "shared", overlap: "allow", run: (ctx) => void calls.push(seen(ctx)) });
    const a = replica("replica-a");
    const b = replica("replica-b");
    for (const [executor, instant] of [
      [a, first],
      [b, second],
    ] as const) {
      const [run] = await executor.fireSlots([{ job: target, instant, trigger: "catch-up" }]);
      await run!.done;
      // The slot is claimed once: the other replica wins nothing for it.
      expect(
        await (executor === a ? b : a).fireSlots([{ job: target, instant, trigger: "catch-up" }]),
      ).toEqual([]);
    }
    expect(calls.map((c) => c.idempotencyKey)).toEqual([
      `shared@${first.toISOString()}`,
      `shared@${second.toISOString()}`,
    ]);
    expect(calls[1]!.fencingToken).toBeGreaterThan(calls[0]!.fencingToken);
    await Promise.all([a.stop(1000), b.stop(1000)]);
  });

  it("a run without a slot keeps its first attempt's run id as key across retries", async () => {
    const calls: Seen[] = [];
    const a = replica("replica-a");
    const started = await a.runNow(flaky("manual", calls), "manual");
    expect((await started.done).status).toBe("succeeded");
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.idempotencyKey)).toEqual([started.runId, started.runId]);
    expect(calls[1]!.runId).not.toBe(started.runId);
    expect(calls[1]!.fencingToken).toBeGreaterThan(calls[0]!.fencingToken);
    await a.stop(1000);
  });
});
