import pino from "pino";
import type { Sql } from "postgres";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunEventBus } from "../../src/run/events.js";
import { Executor } from "../../src/run/executor.js";
import type { ClaimedSlot, SlotClaim, Store } from "../../src/store/store.js";
import { job } from "../helpers/jobs.js";

/** A store that wins every claim and records the order of claims, starts and finishes. */
function fakeStore(order: string[]): Store {
  let id = 0;
  const store = {
    claimSlots: async (claims: SlotClaim[]): Promise<ClaimedSlot[]> =>
      claims.map((c) => ({
        id: String(++id),
        job_name: c.jobName,
        scheduled_for: c.scheduledFor,
        status: "running" as const,
        error: null,
      })),
    finishRuns: async (runs: { id: string }[]) =>
      runs.map((run) => {
        order.push(`finish ${run.id}`);
        return { current: 0, previous: 0 };
      }),
    markInterrupted: async (ids: string[]) => {
      order.push(`interrupt ${ids.join(",")}`);
    },
    releaseClaims: async (ids: string[]) => {
      order.push(`release ${ids.join(",")}`);
      return [];
    },
  };
  return store as unknown as Store;
}

const executor = (order: string[]) =>
  new Executor(fakeStore(order), {} as Sql, pino({ level: "silent" }), new RunEventBus());

afterEach(() => vi.restoreAllMocks());

describe("Executor: runs claimed ahead of their instant", () => {
  it("calls every handler due at the instant before any outcome is wired or written", async () => {
    const order: string[] = [];
    const jobs = Array.from({ length: 50 }, (_, i) =>
      job({ name: `j${i}`, overlap: "allow", run: () => void order.push(`start j${i}`) }),
    );
    // Far enough ahead that a loaded CI machine cannot reach it before fireSlots returns.
    const instant = new Date(Date.now() + 500);
    const started = await executor(order).fireSlots(
      jobs.map((j) => ({ job: j, instant, trigger: "schedule" as const })),
    );
    expect(order).toEqual([]);
    const outcomes = await Promise.all(started.map((run) => run.done));
    expect(outcomes.every((o) => o.status === "succeeded")).toBe(true);
    const lastStart = order.findLastIndex((entry) => entry.startsWith("start"));
    const firstFinish = order.findIndex((entry) => entry.startsWith("finish"));
    expect(lastStart).toBe(49);
    expect(firstFinish).toBe(50);
  });

  it("never starts a handler before the wall clock reaches its instant", async () => {
    const instant = new Date(Date.now() + 20);
    let seen = 0;
    const [run] = await executor([]).fireSlots([
      {
        job: job({
          name: "midnight",
          run: () => {
            seen = Date.now();
          },
        }),
        instant,
        trigger: "schedule",
      },
    ]);
    // Once the timer is armed, the wall clock falls 2 ms behind the timers' clock (NTP slewing,
    // or simply a timer that fires early): by the wall clock, the timer fires early.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => realNow() - 2);
    await run!.done;
    expect(seen).toBeGreaterThanOrEqual(instant.getTime());
  });

  it("starts a slot claimed after its instant at once", async () => {
    let started = false;
    const [run] = await executor([]).fireSlots([
      {
        job: job({
          name: "late",
          run: () => {
            started = true;
          },
        }),
        instant: new Date(Date.now() - 5),
        trigger: "catch-up",
      },
    ]);
    expect(started).toBe(true);
    expect((await run!.done).status).toBe("succeeded");
  });

  it("counts a claimed run as this replica's until its instant, and a stop gives its claim back unstarted", async () => {
    const order: string[] = [];
    const runner = executor(order);
    const instant = new Date(Date.now() + 60_000);
    const started = await runner.fireSlots(
      ["a", "b"].map((name) => ({
        job: job({ name, overlap: "allow", run: () => void order.push(`start ${name}`) }),
        instant,
        trigger: "schedule" as const,
      })),
    );
    expect(runner.runningIds()).toEqual(["1", "2"]);
    await runner.stop(1000);
    const outcomes = await Promise.all(started.map((run) => run.done));
    expect(outcomes).toEqual([
      { status: "interrupted", error: "released at shutdown before its instant", durationMs: 0 },
      { status: "interrupted", error: "released at shutdown before its instant", durationMs: 0 },
    ]);
    expect(order).toEqual(["release 1,2"]);
    expect(runner.runningIds()).toEqual([]);
  });
});
