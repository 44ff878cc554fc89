import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bounded, DeadlineError, withDeadline } from "../../src/util/deadline.js";

/** A promise settled from outside. */
function deferred<T = unknown>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What a promise has done so far, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("withDeadline", () => {
  it("settles as the promise does when it beats the deadline, and leaves no timer behind", async () => {
    const ok = deferred<string>();
    const result = withDeadline(ok.promise, 1000);
    ok.resolve("done");
    await expect(result).resolves.toBe("done");
    const failing = deferred();
    const failed = withDeadline(failing.promise, 1000);
    failing.reject(new Error("boom"));
    await expect(failed).rejects.toThrow("boom");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with a DeadlineError at the deadline, not before", async () => {
    const state = track(withDeadline(new Promise(() => {}), 1000));
    await vi.advanceTimersByTimeAsync(999);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.error).toBeInstanceOf(DeadlineError);
    expect((state.error as Error).message).toBe("did not finish within 1000 ms");
  });

  it("settles with what onTimeout returns, or rejects with what it throws", async () => {
    const value = track(withDeadline(new Promise<string>(() => {}), 50, () => "gave up"));
    const thrown = track(
      withDeadline(new Promise(() => {}), 50, () => {
        throw new Error("no answer within 50 ms");
      }),
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(value).toEqual({ settled: true, value: "gave up" });
    expect((thrown.error as Error).message).toBe("no answer within 50 ms");
  });

  it("ignores a promise that settles after the deadline, a rejection included", async () => {
    const late = deferred<string>();
    const state = track(withDeadline(late.promise, 10, () => "timed out"));
    await vi.advanceTimersByTimeAsync(10);
    // An unhandled rejection here would fail the test run.
    late.reject(new Error("too late"));
    await vi.advanceTimersByTimeAsync(0);
    expect(state).toEqual({ settled: true, value: "timed out" });
  });
});

describe("bounded", () => {
  it("is true when the promise settles in time, either way, and false at the deadline", async () => {
    await expect(bounded(Promise.resolve(1), 100)).resolves.toBe(true);
    await expect(bounded(Promise.reject(new Error("refused")), 100)).resolves.toBe(true);
    await expect(bounded(undefined, 100)).resolves.toBe(true);
    const hung = track(bounded(new Promise(() => {}), 100));
    await vi.advanceTimersByTimeAsync(99);
    expect(hung.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(hung).toEqual({ settled: true, value: false });
  });
});
