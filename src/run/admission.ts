import { createHash } from "node:crypto";
import type { SlotFire } from "../types.js";

/** Why a slot was not run by anyone. */
export type MissReason = "overloaded" | "at capacity";

/** The error text of a slot no replica had room for (recorded `skipped`). */
export const AT_CAPACITY = "missed: at capacity (no replica had room; MAX_CONCURRENT_RUNS)";

/** Claims in flight at once before new due slots count as missed (the database is not keeping up). */
export const MAX_CLAIMS_IN_FLIGHT = 2;

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
