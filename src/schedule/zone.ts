/**
 * A time zone's UTC offset and its transitions, from Intl alone (no I/O, no zone data of our own).
 * Offsets are in minutes east of UTC; times in epoch milliseconds.
 */

/** Offsets only change between two probes this far apart: zones change at most a few times a year. */
const PROBE_MS = 7 * 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= 1000) formatters.clear();
    formatters.set(timezone, format);
  }
  return format;
}

/** The zone's offset from UTC at `ms`, in minutes (Europe/Berlin in winter: 60). */
export function offsetAt(timezone: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(ms))
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  const second = Math.floor(ms / 1000) * 1000;
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - second) / 60_000);
}

/** A change of offset: from `at` on, the offset is `after` minutes; just before, `before`. */
export interface Transition {
  at: number;
  before: number;
  after: number;
}

/** Known transitions per zone, so a search near one does not bisect again. */
const known = new Map<string, Transition[]>();

/** The first instant in (lo, hi] with a different offset, given offset(lo) !== offset(hi) and one change between. */
function bisect(timezone: string, lo: number, hi: number, before: number, after: number): Transition {
  const list = known.get(timezone) ?? [];
  const cached = list.find((t) => t.at > lo && t.at <= hi && t.before === before && t.after === after);
  if (cached) return cached;
  let low = lo;
  let high = hi;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (offsetAt(timezone, mid) === before) low = mid;
    else high = mid;
  }
  const found = { at: high, before, after };
  if (list.length >= 64) list.shift();
  list.push(found);
  known.set(timezone, list);
  return found;
}

/** The first transition in (from, to], or null. */
export function firstTransition(timezone: string, from: number, to: number): Transition | null {
  let lo = from;
  let before = offsetAt(timezone, lo);
  while (lo < to) {
    const hi = Math.min(lo + PROBE_MS, to);
    const after = offsetAt(timezone, hi);
    if (after !== before) return bisect(timezone, lo, hi, before, after);
    lo = hi;
    before = after;
  }
  return null;
}

/** The last transition in (from, to], or null. */
export function lastTransition(timezone: string, from: number, to: number): Transition | null {
  let hi = to;
  let after = offsetAt(timezone, hi);
  while (hi > from) {
    const lo = Math.max(hi - PROBE_MS, from);
    const before = offsetAt(timezone, lo);
    if (after !== before) return bisect(timezone, lo, hi, before, after);
    hi = lo;
    after = before;
  }
  return null;
}
