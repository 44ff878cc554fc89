import type { Job } from "../types.js";
import { latestInstant, nextInstant } from "./cron.js";

/**
 * Overdue from the schedule (job_overdue_seconds, expected_last_run_at, overdue_seconds).
 *
 * A slot is expected to have succeeded by its instant + the job's grace, where the grace is
 * `misfireGraceSeconds + timeout`: the last moment a catch-up may still start it, plus the longest
 * a run may take. The expected last run is the newest slot whose grace has passed. The job is on
 * track (0) when its last success is no older than that slot, or when the first slot after its
 * last success (or after it was first seen) is newer than that slot; otherwise it is overdue, in
 * seconds, since the grace of that first slot passed (of the expected slot when neither is known). Retries can make a job overdue for a while,
 * until the retry that succeeds. A disabled job is never overdue.
 */

export interface OverdueState {
  lastSuccessAt: Date | null;
  /** When a replica first registered the job (job_state.first_seen_at). */
  firstSeenAt: Date | null;
}

export interface Overdue {
  expectedLastRunAt: Date | null;
  overdueSeconds: number;
}

export const graceMs = (job: Job) => job.misfireGraceSeconds * 1000 + job.timeoutMs;

/**
 * Remembers, per schedule and grace, the expected slot until the next one's grace passes, so a
 * scrape of 10,000 jobs computes each schedule about once per instant rather than once per job
 * per scrape.
 */
export class OverdueClock {
  private readonly expected = new Map<string, { at: number | null; from: number; until: number }>();
  private readonly first = new Map<string, Date | null>();

  /** The newest slot whose grace has passed at `now`, or null. */
  expectedLastRun(job: Job, now: number): Date | null {
    if (!job.enabled) return null;
    const grace = graceMs(job);
    const key = `${job.schedule}\u0000${job.timezone}\u0000${job.dst.repeated}/${job.dst.skipped}\u0000${grace}`;
    let entry = this.expected.get(key);
    // Valid from when it was computed until the next slot's grace passes (a clock set back: again).
    if (!entry || now < entry.from || now >= entry.until) {
      const at = latestInstant(job.schedule, job.timezone, new Date(now - grace), job.dst);
      const next = nextInstant(job.schedule, job.timezone, new Date(now - grace), job.dst);
      entry = {
        at: at ? at.getTime() : null,
        from: now,
        until: next ? next.getTime() + grace : Number.POSITIVE_INFINITY,
      };
      if (this.expected.size >= 10_000) this.expected.clear();
      this.expected.set(key, entry);
    }
    return entry.at === null ? null : new Date(entry.at);
  }

  /** The first slot after `base`; remembered per job, as it changes only with a new success. */
  private firstAfter(job: Job, base: Date): Date | null {
    const key = `${job.name}\u0000${job.schedule}\u0000${job.timezone}\u0000${job.dst.repeated}/${job.dst.skipped}\u0000${base.getTime()}`;
    if (this.first.has(key)) return this.first.get(key)!;
    const at = nextInstant(job.schedule, job.timezone, base, job.dst);
    if (this.first.size >= 20_000) this.first.clear();
    this.first.set(key, at);
    return at;
  }

  overdue(job: Job, state: OverdueState | undefined, now: number): Overdue {
    const expected = this.expectedLastRun(job, now);
    if (!expected) return { expectedLastRunAt: null, overdueSeconds: 0 };
    const success = state?.lastSuccessAt ?? null;
    if (success && success >= expected) return { expectedLastRunAt: expected, overdueSeconds: 0 };
    // The first slot after the last success (or after the job was first seen): slots before a job
    // existed are not owed. While that slot's grace has not passed, the job is on track.
    const base = success ?? state?.firstSeenAt ?? null;
    // Seen first after the expected slot: nothing owed yet, and no need to compute the next slot.
    if (base && base >= expected) return { expectedLastRunAt: expected, overdueSeconds: 0 };
    const firstMissed = base ? this.firstAfter(job, base) : expected;
    if (!firstMissed || firstMissed > expected) return { expectedLastRunAt: expected, overdueSeconds: 0 };
    const since = firstMissed.getTime() + graceMs(job);
    return { expectedLastRunAt: expected, overdueSeconds: Math.max(0, (now - since) / 1000) };
  }
}
