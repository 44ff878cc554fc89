import type { RetryOptions } from "../types.js";

/** Delay before attempt `nextAttempt` (2 for the first retry), in milliseconds. */
export function retryDelay(options: RetryOptions, nextAttempt: number): number {
  const retryIndex = Math.max(0, nextAttempt - 2);
  const delay = options.backoff === "fixed" ? options.initialMs : options.initialMs * 2 ** retryIndex;
  return Math.min(delay, options.maxMs);
}
