import { droppedSlots, planFires } from "./misfire.js";
import { instantsBetween, latestInstant } from "./cron.js";
import type { Job, SlotFire } from "../types.js";

/** The most missed slots remembered per job with catchUp "all" (the newest are kept). */
const MAX_MISSED_PER_JOB = 1000;

/**
 * Slots that came due while this replica could not claim them (the database was away, or the
 * process was not running), kept until they can be settled by each job's catch-up policy.
 */
export class MissedSlots {
  private readonly missed = new Map<string, { job: Job; slots: Date[] }>();

  /** `dropped` hears of each slot given up (the policy or the grace), for the slot ledger. */
  constructor(private readonly dropped: (job: Job, instant: Date, reason: string) => void = () => {}) {}

  get size(): number {
    return this.missed.size;
  }

  /** Remember a slot whose claim failed. Bounded: an outage must not grow memory without limit. */
  remember(job: Job, instant: Date): void {
    if (job.catchUp === "none") return;
    const entry = this.missed.get(job.name) ?? { job, slots: [] };
    entry.slots.push(instant);
    const keep = job.catchUp === "latest" ? 1 : MAX_MISSED_PER_JOB;
    if (entry.slots.length > keep)
      for (const slot of entry.slots.splice(0, entry.slots.length - keep))
        this.dropped(
          job,
          slot,
          keep === 1
            ? "catchUp latest (a newer missed slot replaced it)"
            : `catchUp all keeps the newest ${keep} missed slots`,
        );
    this.missed.set(job.name, entry);
  }

  /** At start: the slots that passed since the job was first seen, within its misfire grace. */
  rememberSinceLastRun(job: Job, firstSeenAt: Date, now: Date): void {
    if (job.catchUp === "none" || !job.enabled) return;
    const from = new Date(Math.max(now.getTime() - job.misfireGraceSeconds * 1000, firstSeenAt.getTime()));
    const slots =
      job.catchUp === "latest"
        ? [latestInstant(job.schedule, job.timezone, now, job.dst)].filter(
            (d): d is Date => d !== null && d > from,
          )
        : instantsBetween(job.schedule, job.timezone, from, now, MAX_MISSED_PER_JOB, job.dst);
    for (const slot of slots) this.remember(job, slot);
  }

  forget(name: string): void {
    this.missed.delete(name);
  }

  /**
   * Take every remembered slot and plan its catch-up run by policy. With "latest" the newest
   * missed slot runs even when a newer slot has run on time since (the database came back before
   * this settled): README promises the newest missed slot runs once, and a slot that ran on time
   * was never missed.
   */
  drain(now: number, isKnown: (name: string) => boolean): SlotFire[] {
    const fires: SlotFire[] = [];
    for (const [name, { job, slots }] of this.missed) {
      this.missed.delete(name);
      if (!isKnown(name)) continue;
      const planned = planFires(slots, now, job.catchUp, job.misfireGraceSeconds, -1);
      for (const fire of planned) fires.push({ job, ...fire });
      for (const { instant, reason } of droppedSlots(
        slots,
        planned,
        now,
        job.catchUp,
        job.misfireGraceSeconds,
      ))
        this.dropped(job, instant, reason);
    }
    return fires;
  }
}
