import type { CatchUpPolicy, RunTrigger } from "../types.js";

/** A fire processed within this long of its instant is on time; later, it is a misfire. */
export const ON_TIME_TOLERANCE_MS = 2000;

export interface PlannedFire {
  instant: Date;
  trigger: RunTrigger;
}

/**
 * Decide which of a job's due slots to run, given its catch-up policy.
 *
 * `slots` are the instants that came due since the job was last handled, oldest first. The newest
 * one runs as a normal schedule fire when it is on time. Every other slot was missed (the process
 * or the database was down, or the event loop was blocked past it):
 * - none: missed slots are dropped;
 * - latest: when the newest slot itself was missed, it runs once as catch-up; older ones are dropped;
 * - all: every missed slot runs as catch-up, oldest first.
 * Slots older than `graceSeconds` are never run.
 */
export function planFires(
  slots: Date[],
  now: number,
  policy: CatchUpPolicy,
  graceSeconds: number,
  toleranceMs = ON_TIME_TOLERANCE_MS,
): PlannedFire[] {
  if (slots.length === 0) return [];
  const newest = slots[slots.length - 1]!;
  const newestOnTime = now - newest.getTime() <= toleranceMs;
  const missed = newestOnTime ? slots.slice(0, -1) : slots;
  const withinGrace = missed.filter((slot) => now - slot.getTime() <= graceSeconds * 1000);
  const fires: PlannedFire[] = [];
  if (policy === "all") {
    for (const instant of withinGrace) fires.push({ instant, trigger: "catch-up" });
  } else if (policy === "latest" && !newestOnTime && withinGrace.length > 0) {
    fires.push({ instant: withinGrace[withinGrace.length - 1]!, trigger: "catch-up" });
  }
  if (newestOnTime) fires.push({ instant: newest, trigger: "schedule" });
  return fires;
}

/**
 * The slots `planFires` left out, each with why: older than the grace, or the catch-up policy
 * (`none` runs no missed slot, `latest` only the newest). `cause` says why they were late.
 */
export function droppedSlots(
  slots: readonly Date[],
  fires: readonly PlannedFire[],
  now: number,
  policy: CatchUpPolicy,
  graceSeconds: number,
  cause?: string,
): { instant: Date; reason: string }[] {
  const planned = new Set(fires.map((fire) => fire.instant.getTime()));
  const why = cause ? `; missed: ${cause}` : "";
  return slots
    .filter((slot) => !planned.has(slot.getTime()))
    .map((instant) => ({
      instant,
      reason:
        now - instant.getTime() > graceSeconds * 1000
          ? `outside misfireGraceSeconds (${graceSeconds}s)${why}`
          : `catchUp ${policy}${why}`,
    }));
}
