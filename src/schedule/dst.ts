import type { DstPolicy } from "../types.js";
import { firstTransition, lastTransition, offsetAt, type Transition } from "./zone.js";

/**
 * Daylight saving time by policy. A cron expression names local times; on a transition day a
 * local time can happen twice (clocks go back: `repeated`) or not at all (clocks jump forward:
 * `skipped`). The policy says which instants such a time becomes:
 *
 * - repeated `first`: the first pass only; `last`: the second pass only; `both`: both.
 * - skipped `shift`: the instant the clocks jump (the first valid local time after the gap; all
 *   the skipped times of that gap meet there, once); `skip`: no instant.
 *
 * Instants are found at a fixed offset per stretch between transitions (croner's fixed-offset
 * path, `at(offset)`), then the transition next to the candidate decides. A zone is assumed to
 * change its offset at most once in any 3 hours.
 */

/** Farther than any DST shift (30 min to 2 h) from a transition. */
const NEAR_MS = 3 * 3_600_000;
const MAX_STEPS = 500;

/** What a compiled schedule at a fixed offset (minutes east of UTC) answers. */
export interface FixedOffsetSchedule {
  nextRun(after: Date): Date | null;
  previousRuns(count: number, before: Date): Date[];
}
export type AtOffset = (offsetMinutes: number) => FixedOffsetSchedule;

/**
 * Today's behaviour, which croner and Vixie cron share, when a job sets no policy: a fixed-time
 * job (one value in each of seconds, minutes and hours, such as `30 2 * * *` or `@daily`) is
 * first/shift; an interval job (every 5 minutes, `0 * * * *`, `0 30 1,2 * * *`) is both/skip, so it
 * keeps its rhythm through a repeated hour and does not pile up at the end of a gap.
 */
export function defaultDst(expression: string): DstPolicy {
  return isFixedTime(expression)
    ? { repeated: "first", skipped: "shift" }
    : { repeated: "both", skipped: "skip" };
}

const FIXED_NICKNAMES = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight"]);

export function isFixedTime(expression: string): boolean {
  const text = expression.trim().toLowerCase();
  if (text.startsWith("@")) return FIXED_NICKNAMES.has(text);
  const fields = text.split(/\s+/);
  const timeFields = fields.length === 6 ? fields.slice(0, 3) : ["0", ...fields.slice(0, 2)];
  return timeFields.every((field) => /^\d+$/.test(field));
}

const gapOf = (t: Transition) => Math.abs(t.after - t.before) * 60_000;
const fallsBack = (t: Transition) => t.after < t.before;

/** Whether the expression names a local time in the gap a spring-forward transition skips. */
function gapMatches(at: AtOffset, t: Transition): boolean {
  const natural = at(t.before).nextRun(new Date(t.at - 1));
  return natural !== null && natural.getTime() < t.at + gapOf(t);
}

/** The first instant strictly after `after` under the policy, or null. */
export function nextUnder(timezone: string, at: AtOffset, policy: DstPolicy, after: number): number | null {
  let from = after;
  for (let step = 0; step < MAX_STEPS; step++) {
    // The stretch `from` is in, and the transition that began it when that was recent.
    const recent = lastTransition(timezone, from + 1 - NEAR_MS, from + 1);
    // Clocks jump right after `from`: the skipped times meet at the jump itself.
    if (recent?.at === from + 1 && !fallsBack(recent) && policy.skipped === "shift" && gapMatches(at, recent))
      return recent.at;
    let lower = from;
    // `first`: the second pass of a repeated hour that began just before is not run.
    if (recent && fallsBack(recent) && policy.repeated === "first")
      lower = Math.max(lower, recent.at + gapOf(recent) - 1);
    const natural = at(recent ? recent.after : offsetAt(timezone, from + 1)).nextRun(new Date(lower));
    if (!natural) return null;
    const candidate = natural.getTime();
    const change = firstTransition(timezone, from + 1, candidate + NEAR_MS);
    if (!change) return candidate;
    if (change.at <= candidate) {
      // The candidate lies past a change of offset, so it was computed at the wrong one.
      if (!fallsBack(change) && policy.skipped === "shift" && gapMatches(at, change)) return change.at;
      from = change.at - 1;
      continue;
    }
    // Before a fall-back: a first pass, which `last` leaves out.
    if (fallsBack(change) && policy.repeated === "last" && candidate >= change.at - gapOf(change)) {
      from = change.at - 1;
      continue;
    }
    return candidate;
  }
  return null;
}

/** The newest instant at or before `atOrBefore` under the policy, or null. */
export function previousUnder(
  timezone: string,
  at: AtOffset,
  policy: DstPolicy,
  atOrBefore: number,
): number | null {
  let to = atOrBefore + 1; // exclusive
  for (let step = 0; step < MAX_STEPS; step++) {
    const recent = lastTransition(timezone, to - 1 - NEAR_MS, to - 1);
    const ahead = firstTransition(timezone, to - 1, to - 1 + NEAR_MS);
    let upper = to;
    // `last`: the first pass of a repeated hour that ends just after is not run.
    if (ahead && fallsBack(ahead) && policy.repeated === "last")
      upper = Math.min(upper, ahead.at - gapOf(ahead));
    const natural = at(recent ? recent.after : offsetAt(timezone, to - 1)).previousRuns(
      1,
      new Date(upper),
    )[0];
    if (!natural) return null;
    const candidate = natural.getTime();
    const change = lastTransition(timezone, candidate - NEAR_MS, to - 1);
    if (!change) return candidate;
    if (change.at > candidate) {
      // The candidate lies before a change of offset, so it was computed at the wrong one.
      if (!fallsBack(change) && policy.skipped === "shift" && gapMatches(at, change)) return change.at;
      to = change.at;
      continue;
    }
    // After a fall-back: a second pass, which `first` leaves out.
    if (fallsBack(change) && policy.repeated === "first" && candidate < change.at + gapOf(change)) {
      to = change.at;
      continue;
    }
    return candidate;
  }
  return null;
}
