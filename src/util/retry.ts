import type { RetryOptions } from "../types.js";

/** Exponential backoff: the first delay, doubled after each failure, never above the maximum. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `retryIndex + 1` (0 for the first retry), in whole milliseconds:
 * FULL JITTER, a random value between 0 and the capped exponential. Replicas that failed
 * together (a database restart, a target that went down) then retry spread over the window
 * instead of in lockstep, each wave as large as the last.
 */
export function backoffDelay(
  retryIndex: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * (cappedDelay(retryIndex, backoff) + 1));
}

/** The upper bound of backoffDelay: initialMs doubled `retryIndex` times, at most maxMs. */
export function cappedDelay(retryIndex: number, { initialMs, maxMs }: Backoff): number {
  if (initialMs <= 0) return 0;
  // 2 ** 1100 is Infinity; past 2 ** 52 every delay is capped anyway.
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, retryIndex), 52));
}

/**
 * Delay before attempt `nextAttempt` (2 for the first retry) of a job, in milliseconds: the
 * job's own shape, `fixed` at `initialMs` or `exponential` from it with full jitter (see
 * backoffDelay), never above `maxMs`.
 */
export function retryDelay(
  options: RetryOptions,
  nextAttempt: number,
  random: () => number = Math.random,
): number {
  const retryIndex = Math.max(0, nextAttempt - 2);
  if (options.backoff === "fixed") return Math.min(options.initialMs, options.maxMs);
  return backoffDelay(retryIndex, options, random);
}

/** A failed try: what it threw, which try it was (1 for the first) and the wait before the next. */
export interface Failure {
  error: unknown;
  attempt: number;
  delayMs: number;
}

export interface RetryPolicy extends Backoff {
  /** Tries in all, the first included. Without it, retries until `giveUp` says so (or forever). */
  attempts?: number;
  /** Asked after each failed try (before onError): true ends the retries with that try's error. */
  giveUp?: (failure: Failure) => boolean;
  /** Told about each failed try that will be retried, before the wait. */
  onError?: (failure: Failure) => void;
  /** For tests. @default Math.random */
  random?: () => number;
}

/**
 * Call `fn` until it resolves, waiting a jittered exponential backoff (backoffDelay) between
 * tries. Rejects with the last try's error when `attempts` are used up or `giveUp` says so.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const failure: Failure = { error, attempt, delayMs: backoffDelay(attempt - 1, policy, policy.random) };
      if (policy.attempts !== undefined && attempt >= policy.attempts) throw error;
      if (policy.giveUp?.(failure)) throw error;
      policy.onError?.(failure);
      await new Promise((resolve) => setTimeout(resolve, failure.delayMs));
    }
  }
}
