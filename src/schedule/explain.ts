import type { DstPolicy } from "../types.js";
import { instantsAtOffset, instantsBetween, nextInstant } from "./cron.js";
import { firstTransition, offsetAt, type Transition } from "./zone.js";

/**
 * The schedule simulator behind `runner explain --next`: the coming instants of an expression in
 * its zone, each with a note when DST decided it, and what every policy does on the coming
 * transition days. Pure: the caller gives the time to start from.
 */

export interface PlannedInstant {
  at: Date;
  /** Local time with its offset: `2026-03-29 03:00:00 +02:00`. */
  local: string;
  /** Why DST put the instant here; null on an ordinary instant. */
  note: string | null;
}

export interface TransitionDay {
  at: Date;
  kind: "repeated" | "skipped";
  /** `03:00 +02:00 -> 02:00 +01:00` */
  change: string;
  /** The local times that happen twice or not at all: `02:00:00–02:59:59`. */
  span: string;
  /** How many local times of the schedule the transition repeats or skips, and the first few. */
  named: { count: number; times: string[] };
  /** Instants under each value of the policy field that decides the day (first/last/both or shift/skip). */
  outcomes: {
    policy: string;
    chosen: boolean;
    count: number;
    instants: PlannedInstant[];
    last: PlannedInstant | null;
  }[];
}

const YEAR_MS = 366 * 86_400_000;
/** Listing every second of a repeated hour helps nobody: outcomes keep this many instants. */
export const OUTCOME_LIMIT = 3;

const pad = (n: number) => String(n).padStart(2, "0");

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The local date and time at `ms` in the zone, and its offset. */
export function localTime(timezone: string, ms: number, offset = offsetAt(timezone, ms)): string {
  const d = new Date(ms + offset * 60_000);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${formatOffset(offset)}`;
}

const clock = (local: string) => local.slice(11, 19);
const gapOf = (t: Transition) => Math.abs(t.after - t.before) * 60_000;

function planned(timezone: string, at: Date, note: string | null = null): PlannedInstant {
  return { at, local: localTime(timezone, at.getTime()), note };
}

/** The schedule's instants in (from, to] under `dst`, at most `limit`, oldest first. */
function between(expr: string, tz: string, dst: DstPolicy, from: number, to: number, limit = 100_000) {
  return instantsBetween(expr, tz, new Date(from), new Date(to), limit, dst);
}

/** The next `count` instants after `from`, noting those a transition moved or doubled. */
export function upcoming(
  expr: string,
  timezone: string,
  dst: DstPolicy,
  from: Date,
  count: number,
): PlannedInstant[] {
  const out: PlannedInstant[] = [];
  let cursor: Date | null = from;
  while (out.length < count && cursor) {
    cursor = nextInstant(expr, timezone, cursor, dst);
    if (cursor) out.push(planned(timezone, cursor, noteFor(expr, timezone, dst, cursor.getTime())));
  }
  return out;
}

function noteFor(expr: string, tz: string, dst: DstPolicy, ms: number): string | null {
  const near = firstTransition(tz, ms - 3 * 3_600_000, ms + 3 * 3_600_000);
  if (!near) return null;
  const g = gapOf(near);
  if (near.after > near.before) {
    if (ms !== near.at) return null;
    const skipped = namedIn(expr, tz, near);
    if (skipped.length === 0) return null;
    return `${list(skipped)} ${skipped.length === 1 ? "does" : "do"} not exist (clocks jump ${jump(tz, near)}): skipped=shift runs ${skipped.length === 1 ? "it" : "them"} here, once`;
  }
  if (ms < near.at - g || ms >= near.at + g) return null;
  const pass = ms < near.at ? "first" : "second";
  const local = clock(localTime(tz, ms));
  return `${local} happens twice (clocks go back ${jump(tz, near)}): the ${pass} pass, run under repeated=${dst.repeated}`;
}

function jump(tz: string, t: Transition): string {
  const from = localTime(tz, t.at, t.before);
  const to = localTime(tz, t.at, t.after);
  return `${from.slice(11, 16)} ${from.slice(20)} -> ${to.slice(11, 16)} ${to.slice(20)}`;
}

function list(times: string[]): string {
  return times.length <= 4
    ? times.join(", ")
    : `${times.length} local times from ${times[0]} to ${times.at(-1)}`;
}

/** Local times of the schedule that the transition repeats (fall back) or skips (spring forward). */
function namedIn(expr: string, tz: string, t: Transition): string[] {
  const g = gapOf(t);
  // Both are the instants the old offset gives in the hour that changes: before the change when
  // clocks go back (the first pass), after it when they jump (times that never come).
  const [from, to] = t.after > t.before ? [t.at - 1, t.at + g - 1] : [t.at - g - 1, t.at - 1];
  return instantsAtOffset(expr, t.before, new Date(from), new Date(to), 100_000).map((d) =>
    clock(localTime(tz, d.getTime(), t.before)),
  );
}

/** The zone's next `max` transitions within a year of `from`, and what each policy does on them. */
export function transitionDays(
  expr: string,
  timezone: string,
  dst: DstPolicy,
  from: Date,
  max = 2,
): TransitionDay[] {
  const days: TransitionDay[] = [];
  const end = from.getTime() + YEAR_MS;
  let cursor = from.getTime();
  for (let t = firstTransition(timezone, cursor, end); t && days.length < max; ) {
    days.push(transitionDay(expr, timezone, dst, t));
    cursor = t.at;
    t = firstTransition(timezone, cursor, end);
  }
  return days;
}

function transitionDay(expr: string, tz: string, dst: DstPolicy, t: Transition): TransitionDay {
  const g = gapOf(t);
  const named = namedIn(expr, tz, t);
  const [low, high] = t.after > t.before ? [t.before, t.after] : [t.after, t.before];
  const span = `${clock(localTime(tz, t.at, low))}–${clock(localTime(tz, t.at - 1000, high))}`;
  const base = {
    span,
    at: new Date(t.at),
    change: jump(tz, t),
    named: { count: named.length, times: named.slice(0, OUTCOME_LIMIT) },
  };
  const outcome = (policy: string, chosen: boolean, all: Date[]) => ({
    policy,
    chosen,
    count: all.length,
    instants: all.slice(0, OUTCOME_LIMIT).map((d) => planned(tz, d)),
    last: all.length > 0 ? planned(tz, all.at(-1)!) : null,
  });
  if (t.after > t.before) {
    // Skipped times: shift runs them once at the jump; skip drops them.
    return {
      ...base,
      kind: "skipped",
      outcomes: (["shift", "skip"] as const).map((skipped) =>
        outcome(
          skipped,
          dst.skipped === skipped,
          skipped === "shift" && named.length > 0 ? [new Date(t.at)] : [],
        ),
      ),
    };
  }
  return {
    ...base,
    kind: "repeated",
    outcomes: (["first", "last", "both"] as const).map((repeated) =>
      outcome(
        repeated,
        dst.repeated === repeated,
        named.length > 0 ? between(expr, tz, { ...dst, repeated }, t.at - g - 1, t.at + g - 1) : [],
      ),
    ),
  };
}
