import { parseIsoWithZone } from "./iso.js";

/** What `runner backfill` and POST /v1/admin/jobs/:name/backfill accept. */
export interface BackfillInput {
  from?: unknown;
  to?: unknown;
  concurrency?: unknown;
  rate?: unknown;
}

export interface BackfillWindow {
  from: Date;
  to: Date;
  /** Backfill runs of the window going on at once, across processes. */
  concurrency: number;
  /** Slot starts per second at most, across processes; null: no limit. */
  rate: number | null;
}

export const MAX_CONCURRENCY = 100;
export const MAX_RATE = 1000;
/** A window longer than a year is a mistake (and a sparse schedule's slots are enumerated up to it). */
export const MAX_WINDOW_MS = 366 * 86_400_000;

function time(field: string, value: unknown, problems: string[]): Date | undefined {
  const at = parseIsoWithZone(value);
  if (at) return at;
  problems.push(
    value === undefined || value === null
      ? `${field}: required, an ISO time with a zone, e.g. 2026-03-29T00:00Z`
      : `${field}: expected an ISO time with a zone, e.g. 2026-03-29T00:00Z (got ${JSON.stringify(value)})`,
  );
  return undefined;
}

/** "5", "5/s", "0.5/s" or a JSON number: slot starts per second. */
function rateOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * The window and limits of a backfill, or one line per problem naming the field (the CLI prefixes
 * `--`). The window is [from, to], both ISO times with a zone, from not after to, to not in the
 * future (a backfill runs past slots; the scheduler owns the coming ones), at most a year long.
 */
export function parseBackfill(
  input: BackfillInput,
  now = new Date(),
): BackfillWindow | { problems: string[] } {
  const problems: string[] = [];
  const from = time("from", input.from, problems);
  const to = time("to", input.to, problems);
  if (from && to) {
    if (from > to) problems.push(`from: ${from.toISOString()} is after to (${to.toISOString()})`);
    else if (to > now)
      problems.push(`to: ${to.toISOString()} is in the future; backfill runs past slots only`);
    else if (to.getTime() - from.getTime() > MAX_WINDOW_MS)
      problems.push("from: the window is longer than 366 days");
  }
  let concurrency = 1;
  if (input.concurrency !== undefined && input.concurrency !== null) {
    const n =
      typeof input.concurrency === "string" && /^\d+$/.test(input.concurrency)
        ? Number(input.concurrency)
        : input.concurrency;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
      problems.push(
        `concurrency: expected an integer from 1 to ${MAX_CONCURRENCY} (got ${JSON.stringify(input.concurrency)})`,
      );
    else concurrency = n;
  }
  let rate: number | null = null;
  if (input.rate !== undefined && input.rate !== null) {
    const n = rateOf(input.rate);
    if (n === undefined || !Number.isFinite(n) || n <= 0 || n > MAX_RATE)
      problems.push(
        `rate: expected slots per second above 0 and at most ${MAX_RATE}, e.g. 5/s (got ${JSON.stringify(input.rate)})`,
      );
    else rate = n;
  }
  if (problems.length > 0 || !from || !to) return { problems };
  return { from, to, concurrency, rate };
}
