import { createHash } from "node:crypto";
import { jitteredStart } from "../schedule/jitter.js";
import type { ClaimedSlot } from "../store/store.js";
import type { Job, SlotFire } from "../types.js";
import type { RunEventBus } from "./events.js";

export type { MissReason } from "./events.js";

/** The error text of a slot no replica had room for (recorded `skipped`). */
export const AT_CAPACITY = "missed: at capacity (no replica had room; MAX_CONCURRENT_RUNS)";

/**
 * Claims in flight at once before new due slots are refused (the database is seconds behind):
 * more claims would only queue behind the ones in flight, and memory would grow with them.
 */
export const MAX_CLAIMS_IN_FLIGHT = 3;

/** Thrown instead of claiming while the database is not keeping up; the caller settles the slots by policy. */
export class OverloadedError extends Error {
  constructor(readonly slots: number) {
    super(`overloaded: ${MAX_CLAIMS_IN_FLIGHT} claims already in flight`);
  }
}

/** What bounds this replica's work (MAX_CONCURRENT_RUNS) and orders its claims. */
export interface ExecutorLimits {
  maxConcurrentRuns: number;
  runnerId: string;
  /** A job's mutual-exclusion group with its limit and members, when it has one. */
  groupOf?: (job: Job) => { name: string; max: number; jobs: string[] } | undefined;
}

/**
 * The order in which this replica tries slots when it has room for only some: a hash of replica
 * and slot, so replicas that wake together try different slots first instead of colliding on the
 * same ones, and each replica's order is stable (the same job is not starved every second).
 */
export function replicaOrder(fires: SlotFire[], runnerId: string): SlotFire[] {
  const key = (fire: SlotFire) =>
    createHash("sha1")
      .update(`${runnerId}\u0000${fire.job.name}\u0000${fire.instant.getTime()}`)
      .digest()
      .readUInt32BE(0);
  return fires
    .map((fire) => ({ fire, key: key(fire) }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.fire);
}

/** When a slot's run starts: its instant plus the job's jitter (schedule/jitter.ts); catch-ups at once. */
export function startOf(fire: SlotFire): Date {
  if (fire.trigger !== "schedule") return fire.instant;
  return jitteredStart(fire.job.name, fire.instant, fire.job.jitterMs);
}

/** Slots a claim found paused (no row): the slot ledger records them, with who paused the job. */
export function recordPaused(
  events: RunEventBus,
  claimed: ClaimedSlot[],
  fires: Map<string, SlotFire>,
): void {
  const byJob = new Map<string, { job: Job; instants: Date[]; reason: string }>();
  for (const row of claimed) {
    const fire =
      row.status === "paused" ? fires.get(`${row.job_name}@${row.scheduled_for.getTime()}`) : undefined;
    if (!fire) continue;
    const entry = byJob.get(row.job_name) ?? { job: fire.job, instants: [], reason: row.error ?? "paused" };
    entry.instants.push(fire.instant);
    byJob.set(row.job_name, entry);
  }
  for (const { job, instants, reason } of byJob.values())
    events.emit("fate", { job, instants, fate: "paused", reason });
}
