import { Cron } from "croner";
import type { DstPolicy } from "../types.js";
import { defaultDst, nextUnder, previousUnder } from "./dst.js";
import { nicknameProblem } from "./nicknames.js";
import { offsetAt } from "./zone.js";

/**
 * Cron arithmetic. croner is used as a calculator only: it never arms a timer here.
 *
 * A compiled croner pattern weighed about 85 KB (croner 11 fills a 10,000-entry year table in each,
 * now shared: see EVERY_YEAR), so holding one per job cost 0.9 GB at 10,000 jobs. Instead a small
 * LRU keeps the recently used patterns: jobs that share an expression share one, and a job with a
 * unique expression compiles its pattern (about 0.07 ms) when its next instant is computed, which
 * happens once per fire (and once at registration and start together, see lastUtc).
 */
const CACHE_SIZE = 64;
const cache = new Map<string, Cron>();

/**
 * croner fills a 10,000-entry year table for every pattern, and in our 5-or-6-part mode it is
 * always all ones. Compiling 100,000 distinct expressions at registration made 100,000 of them; kept
 * alive by the LRU just long enough to be promoted, they were most of a minute of garbage
 * collection (30,000 jobs: 11 s to register, 3 s with this). Every pattern shares this one instead;
 * croner only reads the table after construction.
 */
const EVERY_YEAR: number[] = Array(10_000).fill(1);
type YearTable = { _states?: { pattern?: { starYear?: boolean; year?: unknown } } };

function shareYearTable(cron: Cron): void {
  const pattern = (cron as unknown as YearTable)._states?.pattern;
  if (pattern?.starYear && Array.isArray(pattern.year) && pattern.year.length === EVERY_YEAR.length)
    pattern.year = EVERY_YEAR;
}
const UTC_NAMES = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu"]);

/** A pattern in a zone (croner's own DST handling), or at a fixed offset in minutes east of UTC. */
function compiled(expression: string, zone: string | number): Cron {
  const key = `${zone}\u0000${expression}`;
  let cron = cache.get(key);
  if (cron) {
    cache.delete(key);
  } else {
    // UTC through croner's fixed-offset path: 3.5 µs a nextRun instead of 57 µs through Intl.
    const options =
      typeof zone === "number"
        ? { utcOffset: zone }
        : UTC_NAMES.has(zone)
          ? { utcOffset: 0 }
          : { timezone: zone };
    cron = new Cron(expression, { ...options, paused: true, mode: "5-or-6-parts" });
    shareYearTable(cron);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, cron);
  return cron;
}

/** The policy, defaults filled in for the expression (see dst.ts). */
export function dstPolicy(expression: string, dst?: Partial<DstPolicy>): DstPolicy {
  const fallback = defaultDst(expression);
  return { repeated: dst?.repeated ?? fallback.repeated, skipped: dst?.skipped ?? fallback.skipped };
}

/**
 * The last UTC answer per expression: the next instant is the same for every `after` from the one
 * asked up to that instant. Validation asks it at registration and the scheduler again at start,
 * so a job with an expression of its own compiles its pattern once, not twice (100,000 such jobs:
 * seconds of start-up). Small entries; cleared if it ever holds more expressions than that.
 */
const lastUtc = new Map<string, { from: number; next: number }>();
const LAST_UTC_MAX = 200_000;

function nextUtc(expression: string, after: number): Date | null {
  const known = lastUtc.get(expression);
  if (known && known.from <= after && after < known.next) return new Date(known.next);
  const next = compiled(expression, 0).nextRun(new Date(after));
  if (lastUtc.size >= LAST_UTC_MAX) lastUtc.clear();
  if (next) lastUtc.set(expression, { from: after, next: next.getTime() });
  return next;
}

/** Next instant after `after` (ms) under the policy: UTC has no DST, other zones go through dst.ts. */
function next(expression: string, timezone: string, after: number, dst?: Partial<DstPolicy>): Date | null {
  if (UTC_NAMES.has(timezone)) return nextUtc(expression, after);
  const at = nextUnder(timezone, (offset) => compiled(expression, offset), dstPolicy(expression, dst), after);
  return at === null ? null : new Date(at);
}

/** A one-line reason why the expression or time zone is unusable, or undefined when it is fine. */
export function scheduleProblem(expression: string, timezone: string): string | undefined {
  if (!isTimeZone(timezone))
    return `unknown time zone ${JSON.stringify(timezone)} (expected an IANA name such as Europe/Berlin)`;
  const fields = expression.trim().split(/\s+/);
  if (expression.trim().startsWith("@")) {
    const problem = nicknameProblem(expression);
    if (problem) return problem;
  } else if (fields.length < 5 || fields.length > 6) {
    return `cron expression ${JSON.stringify(expression)} has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (with seconds first)`;
  }
  try {
    if (nextUtc(expression, Date.now()) === null) {
      return `cron expression ${JSON.stringify(expression)} never fires`;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^Cron\w*:\s*/, "") : String(error);
    return `invalid cron expression ${JSON.stringify(expression)}: ${reason}`;
  }
  return undefined;
}

const zones = new Map<string, boolean>();

/** Whether Intl knows the zone. Cached: creating a DateTimeFormat costs about 0.1 ms. */
export function isTimeZone(timezone: string): boolean {
  let known = zones.get(timezone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
      known = true;
    } catch {
      known = false;
    }
    if (zones.size < 1000) zones.set(timezone, known);
  }
  return known;
}

/** The first instant strictly after `after`, or null when the expression has no more. */
export function nextInstant(
  expression: string,
  timezone: string,
  after: Date,
  dst?: Partial<DstPolicy>,
): Date | null {
  return next(expression, timezone, after.getTime(), dst);
}

/**
 * Instants in (from, to], oldest first, at most `limit` of them (the newest ones are kept,
 * since catch-up policies care about the latest).
 */
export function instantsBetween(
  expression: string,
  timezone: string,
  from: Date,
  to: Date,
  limit = 1000,
  dst?: Partial<DstPolicy>,
): Date[] {
  const found: Date[] = [];
  let cursor: Date | null = from;
  while (cursor) {
    cursor = next(expression, timezone, cursor.getTime(), dst);
    if (!cursor || cursor > to) break;
    found.push(cursor);
    if (found.length > limit) found.shift();
  }
  return found;
}

/** Instants in (from, to] at a fixed offset (minutes east of UTC), oldest first, at most `limit`. */
export function instantsAtOffset(
  expression: string,
  offset: number,
  from: Date,
  to: Date,
  limit: number,
): Date[] {
  const cron = compiled(expression, offset);
  const found: Date[] = [];
  for (
    let cursor = cron.nextRun(from);
    cursor && cursor <= to && found.length < limit;
    cursor = cron.nextRun(cursor)
  )
    found.push(cursor);
  return found;
}

/** The newest instant at or before `atOrBefore`, or null. */
export function latestInstant(
  expression: string,
  timezone: string,
  atOrBefore: Date,
  dst?: Partial<DstPolicy>,
): Date | null {
  if (UTC_NAMES.has(timezone))
    return compiled(expression, 0).previousRuns(1, new Date(atOrBefore.getTime() + 1))[0] ?? null;
  const at = previousUnder(
    timezone,
    (offset) => compiled(expression, offset),
    dstPolicy(expression, dst),
    atOrBefore.getTime(),
  );
  return at === null ? null : new Date(at);
}

/**
 * Roughly where the newest `count` instants of (since, until] begin, or null when the window holds
 * no more than `count`: a bound on a window's size, not a plan. It counts at the zone's offset of
 * `until` (DST moves it by an hour at most), through croner's fixed-offset path (about 4 µs an
 * instant, where the zone's own rules cost 20 to 35). Forward first, stopping at count + 1, so a
 * sparse schedule costs a few steps; only a window known to hold more is walked back.
 */
export function newestInstantsStart(
  expression: string,
  timezone: string,
  since: Date,
  until: Date,
  count: number,
): Date | null {
  const cron = compiled(expression, offsetAt(timezone, until.getTime()));
  let seen = 0;
  for (let t = cron.nextRun(since); t && t <= until && seen <= count; t = cron.nextRun(t)) seen++;
  if (seen <= count) return null;
  return cron.previousRuns(count, new Date(until.getTime() + 1)).at(-1) ?? null;
}
