import type { DstPolicy } from "../types.js";
import { nextInstant } from "./cron.js";

/** A backfill runs at most this many slots: a per-second job's 2 h 46 min, a daily job's 27 years. */
export const MAX_BACKFILL_SLOTS = 10_000;

export interface ScheduleOf {
  schedule: string;
  timezone: string;
  dst?: Partial<DstPolicy>;
}

/**
 * The planned instants of a schedule in [from, to], oldest first, under its zone and DST policy
 * (the scheduler's own arithmetic, cron.ts), or `tooMany` as soon as there are more than `max`:
 * a per-second schedule over a year is refused without listing its 31 million instants.
 */
export function slotsInWindow(
  job: ScheduleOf,
  from: Date,
  to: Date,
  max = MAX_BACKFILL_SLOTS,
): { slots: Date[] } | { tooMany: number } {
  const slots: Date[] = [];
  // nextInstant is strictly after its argument: start 1 ms before `from` so `from` itself counts.
  let cursor = nextInstant(job.schedule, job.timezone, new Date(from.getTime() - 1), job.dst);
  while (cursor && cursor <= to) {
    if (slots.length === max) return { tooMany: max };
    slots.push(cursor);
    cursor = nextInstant(job.schedule, job.timezone, cursor, job.dst);
  }
  return { slots };
}
