import { createHash } from "node:crypto";

/**
 * When a slot's run starts with the job's `jitter`: its instant plus a deterministic share of the
 * jitter (a hash of job and instant), so every replica computes the same start, a catch-up of the
 * same slot starts at the same offset, and `runner explain` can show it beside the slot.
 */
export function jitteredStart(jobName: string, instant: Date, jitterMs: number): Date {
  if (jitterMs <= 0) return instant;
  const hash = createHash("sha1").update(`${jobName}\u0000${instant.getTime()}`).digest().readUInt32BE(0);
  return new Date(instant.getTime() + (hash % (jitterMs + 1)));
}
