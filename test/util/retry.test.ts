import { describe, expect, it } from "vitest";
import { backoffDelay, cappedDelay, type Failure, retry, retryDelay } from "../../src/util/retry.js";

const samples = (n: number, delay: () => number) => Array.from({ length: n }, delay);

describe("backoffDelay", () => {
  const backoff = { initialMs: 100, maxMs: 1000 };

  it("caps the exponential: initialMs doubled per retry, at most maxMs", () => {
    expect([0, 1, 2, 3, 4, 60, 2000].map((i) => cappedDelay(i, backoff))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
    expect(cappedDelay(5, { initialMs: 0, maxMs: 1000 })).toBe(0);
  });

  it("draws whole milliseconds from 0 up to the cap, both ends included (full jitter)", () => {
    expect(backoffDelay(2, backoff, () => 0)).toBe(0);
    expect(backoffDelay(2, backoff, () => 0.999_999)).toBe(400);
    expect(backoffDelay(2, backoff, () => 0.5)).toBe(200);
    for (const retryIndex of [0, 1, 2, 3, 10]) {
      const cap = cappedDelay(retryIndex, backoff);
      for (const delay of samples(200, () => backoffDelay(retryIndex, backoff))) {
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });

  it("spreads replicas that fail together instead of retrying in lockstep", () => {
    // Two replicas computing their next 20 delays: with jitter they cannot all agree.
    const replicaA = samples(20, () => backoffDelay(3, backoff));
    const replicaB = samples(20, () => backoffDelay(3, backoff));
    expect(replicaA).not.toEqual(replicaB);
    // And the spread covers the window, not one corner of it.
    const many = samples(1000, () => backoffDelay(3, backoff));
    expect(Math.min(...many)).toBeLessThan(200);
    expect(Math.max(...many)).toBeGreaterThan(600);
  });
});

describe("retryDelay (a job's retries)", () => {
  const options = { attempts: 5, backoff: "exponential" as const, initialMs: 1000, maxMs: 5000 };

  it("stays between 0 and the doubled delay, capped at the maximum", () => {
    const caps = { 2: 1000, 3: 2000, 4: 4000, 5: 5000, 9: 5000 };
    for (const [attempt, cap] of Object.entries(caps)) {
      expect(retryDelay(options, Number(attempt), () => 0.999_999)).toBe(cap);
      expect(retryDelay(options, Number(attempt), () => 0)).toBe(0);
      for (const delay of samples(100, () => retryDelay(options, Number(attempt)))) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });

  it("differs between two replicas retrying the same job", () => {
    const replicaA = samples(20, () => retryDelay(options, 4));
    const replicaB = samples(20, () => retryDelay(options, 4));
    expect(replicaA).not.toEqual(replicaB);
  });

  it("keeps a fixed delay exact when asked, within the maximum", () => {
    const fixed = { ...options, backoff: "fixed" as const };
    expect([2, 3, 4, 9].map((attempt) => retryDelay(fixed, attempt))).toEqual([1000, 1000, 1000, 1000]);
    expect(retryDelay({ ...fixed, initialMs: 9000 }, 2)).toBe(5000);
  });
});

describe("retry", () => {
  /** fn that fails `failures` times, then resolves with the attempt number. */
  const failing = (failures: number) => async (attempt: number) => {
    if (attempt <= failures) throw new Error(`failure ${attempt}`);
    return attempt;
  };
  const fast = { initialMs: 1, maxMs: 4 };

  it("returns the first success, telling onError about each failure with the wait before the next try", async () => {
    const seen: Failure[] = [];
    const result = await retry(failing(3), { ...fast, onError: (f) => seen.push(f) });
    expect(result).toBe(4);
    expect(seen.map((f) => [f.attempt, (f.error as Error).message])).toEqual([
      [1, "failure 1"],
      [2, "failure 2"],
      [3, "failure 3"],
    ]);
    expect(seen.map((f) => f.delayMs <= cappedDelay(f.attempt - 1, fast))).toEqual([true, true, true]);
  });

  it("rejects with the last error once the attempts are used up, without a last wait", async () => {
    let tries = 0;
    const errors: number[] = [];
    const outcome = retry(
      async (attempt) => {
        tries++;
        throw new Error(`failure ${attempt}`);
      },
      { ...fast, attempts: 3, onError: (f) => errors.push(f.attempt) },
    );
    await expect(outcome).rejects.toThrow("failure 3");
    expect(tries).toBe(3);
    expect(errors).toEqual([1, 2]);
  });

  it("stops when giveUp says so, and not before", async () => {
    const asked: number[] = [];
    const outcome = retry(failing(100), {
      ...fast,
      giveUp: ({ attempt }) => {
        asked.push(attempt);
        return attempt >= 4;
      },
    });
    await expect(outcome).rejects.toThrow("failure 4");
    expect(asked).toEqual([1, 2, 3, 4]);
  });

  it("waits the drawn delay between tries", async () => {
    const started: number[] = [];
    await retry(
      async (attempt) => {
        started.push(performance.now());
        if (attempt === 1) throw new Error("once");
      },
      { initialMs: 60, maxMs: 60, random: () => 0.999_999 },
    );
    // Timers may fire up to a millisecond early.
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(59);
  });
});
