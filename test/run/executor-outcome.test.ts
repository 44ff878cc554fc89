import pino from "pino";
import type { Sql } from "postgres";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunEventBus } from "../../src/run/events.js";
import { Executor } from "../../src/run/executor.js";
import type { NewRetry, Store } from "../../src/store/store.js";
import type { RunOutcome } from "../../src/types.js";
import { job } from "../helpers/jobs.js";

/**
 * A store whose write of one outcome is the test's; insertRun numbers the rows it is asked for,
 * and a retry is kept as a pending row until taken, when it gets its row too.
 */
function fakeStore(finishRun: () => Promise<unknown>) {
  const inserted: { trigger: string; attempt: number }[] = [];
  const pending = new Map<string, NewRetry>();
  const insert = (trigger: string, attempt: number) => {
    inserted.push({ trigger, attempt });
    return String(inserted.length);
  };
  const store = {
    insertRun: async (run: { trigger: string; attempt: number }) => insert(run.trigger, run.attempt),
    finishRuns: (runs: unknown[]) => Promise.all(runs.map(() => finishRun())),
    markInterrupted: async () => {},
    retries: {
      schedule: async (retry: NewRetry) => void pending.set(retry.retryOf, retry),
      take: async (retryOf: string) => {
        const retry = pending.get(retryOf);
        if (!retry) return undefined;
        pending.delete(retryOf);
        return {
          run_id: insert("retry", retry.attempt),
          attempt: retry.attempt,
          scheduled_for: retry.scheduledFor,
          params: retry.params,
          idempotency_key: retry.idempotencyKey,
        };
      },
    },
  };
  return { store: store as unknown as Store, inserted, pending };
}

/** The executor, with the log lines it writes and the outcomes it publishes. */
function executorWith(store: Store) {
  const lines: { level: number; msg: string; retry_in_ms?: number; delay_ms?: number }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const events = new RunEventBus();
  const finished: { outcome: RunOutcome; failures: unknown }[] = [];
  events.on("finished", (event) => finished.push(event));
  return { executor: new Executor(store, {} as Sql, log, events), lines, finished };
}

/** Whether a promise has settled, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T } = { settled: false };
  void promise.then((value) => Object.assign(state, { settled: true, value }));
  return state;
}

/** Run fake time forward until `done()` holds (at most `maxSteps` seconds of it). */
async function advanceUntil(done: () => boolean, maxSteps = 600): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) await vi.advanceTimersByTimeAsync(1000);
  expect(done()).toBe(true);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Executor: recording outcomes", () => {
  it("keeps writing an outcome while the database is away, with jittered backoff, and publishes it once", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let writes = 0;
    const { store } = fakeStore(async () => {
      if (++writes <= 3) throw new Error("connection refused");
      return { current: 0, previous: 0 };
    });
    const { executor, lines, finished } = executorWith(store);
    const run = await executor.runNow(job({ name: "steady", run: () => "ok" }), "manual");
    const done = track(run.done);
    await advanceUntil(() => done.settled);
    expect(done.value).toMatchObject({ status: "succeeded" });
    expect(writes).toBe(4);
    const warnings = lines.filter((line) => line.msg.startsWith("recording outcome failed"));
    expect(warnings).toHaveLength(3);
    // Between 0 and 500 ms doubled per failure: full jitter, so no exact values.
    warnings.forEach((line, i) => {
      expect(line.retry_in_ms).toBeGreaterThanOrEqual(0);
      expect(line.retry_in_ms).toBeLessThanOrEqual(500 * 2 ** i);
    });
    expect(finished).toEqual([expect.objectContaining({ failures: { current: 0, previous: 0 } })]);
  });

  it("never gives up while running, and gives up once stopping and the database is still away", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let writes = 0;
    const { store } = fakeStore(async () => {
      writes++;
      throw new Error("connection refused");
    });
    const { executor, lines, finished } = executorWith(store);
    const run = await executor.runNow(job({ name: "unlucky", run: () => "ok" }), "manual");
    const done = track(run.done);
    await advanceUntil(() => writes >= 12);
    expect(done.settled).toBe(false);
    const stopped = track(executor.stop(1000));
    await advanceUntil(() => done.settled && stopped.settled);
    expect(done.value).toMatchObject({ status: "succeeded" });
    expect(lines.some((line) => line.msg === "outcome could not be recorded")).toBe(true);
    expect(finished).toEqual([expect.objectContaining({ failures: undefined })]);
  });
});

describe("Executor: retries", () => {
  it("starts each retry as its own row after the job's backoff", async () => {
    const { store, inserted } = fakeStore(async () => ({ current: 1, previous: 0 }));
    const { executor, lines } = executorWith(store);
    let calls = 0;
    const flaky = job({
      name: "flaky",
      retries: { attempts: 3, backoff: "exponential", initial: "20ms" },
      run: () => {
        if (++calls < 3) throw new Error(`boom ${calls}`);
        return "fine";
      },
    });
    const outcome = await (await executor.runNow(flaky, "manual")).done;
    expect(outcome).toMatchObject({ status: "succeeded" });
    expect(inserted).toEqual([
      { trigger: "manual", attempt: 1 },
      { trigger: "retry", attempt: 2 },
      { trigger: "retry", attempt: 3 },
    ]);
    const delays = lines.filter((line) => line.msg === "retry scheduled").map((line) => line.delay_ms);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
  });

  it("ends a retry's wait at stop and starts no further attempt: the run keeps its last outcome, the retry its row", async () => {
    const { store, inserted, pending } = fakeStore(async () => ({ current: 1, previous: 0 }));
    const { executor, lines } = executorWith(store);
    const failing = job({
      name: "failing",
      retries: { attempts: 3, backoff: "fixed", initial: "1h" },
      run: () => {
        throw new Error("boom");
      },
    });
    const run = await executor.runNow(failing, "manual");
    await vi.waitFor(() => expect(lines.some((line) => line.msg === "retry scheduled")).toBe(true));
    await executor.stop(1000);
    expect(await run.done).toMatchObject({ status: "failed", error: "boom" });
    expect(inserted).toEqual([{ trigger: "manual", attempt: 1 }]);
    // Left for another replica, or this one's next start.
    expect([...pending.values()]).toMatchObject([{ retryOf: run.runId, attempt: 2 }]);
  });
});

describe("Executor: outcomes waiting for the database count as overload", () => {
  it("refuses to claim while as many outcomes wait as MAX_CONCURRENT_RUNS allows runs, and claims again once they are written", async () => {
    let release: () => void = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const claims: number[] = [];
    const store = {
      insertRun: async () => String(claims.length + 1000),
      finishRuns: async (runs: { id: string }[]) => {
        await hung;
        return runs.map(() => ({ current: 0, previous: 0 }));
      },
      claimSlots: async (slots: { jobName: string; scheduledFor: Date }[]) => {
        claims.push(slots.length);
        return [];
      },
      markInterrupted: async () => {},
    } as unknown as Store;
    const events = new RunEventBus();
    const executor = new Executor(store, {} as Sql, pino({ level: "silent" }), events, {
      maxConcurrentRuns: 2,
      runnerId: "r",
    });
    const quick = job({ name: "quick", run: () => "ok" });
    const runs = await Promise.all([executor.runNow(quick, "manual"), executor.runNow(quick, "manual")]);
    const fire = { job: quick, instant: new Date(Date.now() + 60_000), trigger: "schedule" as const };
    // Both handlers are done, their outcomes wait for a database that does not answer.
    await expect
      .poll(() =>
        executor.fireSlots([fire]).then(
          () => "claimed",
          (error: Error) => error.constructor.name,
        ),
      )
      .toBe("OverloadedError");
    expect(claims).toEqual([]);
    release();
    await Promise.all(runs.map((run) => run.done));
    await executor.fireSlots([fire]);
    expect(claims).toEqual([1]);
  });
});
