import type { DstPolicy } from "../types.js";
import { nextInstant } from "./cron.js";
import { jitteredStart } from "./jitter.js";

/**
 * Every planned instant of a job in a window with its fate and reason, consecutive slots with the
 * same fate and reason folded into one range. Sources, by precedence: the slot's job_runs row
 * (ran, caught-up, backfilled, skipped, missed at capacity), the ledger (paused, missed, dropped),
 * then what nobody recorded: `missed` "runner down" when no replica that runs jobs was up at the
 * instant, else `pending` for the last few seconds and "not recorded" after. No I/O: the caller
 * hands the rows over (runs page by page, so a long window never holds them all).
 */

export type SlotFate =
  | "ran"
  | "skipped"
  | "paused"
  | "missed"
  | "dropped"
  | "caught-up"
  | "backfilled"
  | "pending";

export interface FateRun {
  scheduled_for: Date;
  /** The first attempt's trigger, or 'backfill' when a backfill ran any attempt of the slot. */
  trigger: string;
  /** The latest attempt's status and error. */
  status: string;
  error: string | null;
  run_id: string;
}

export interface FateLedgerRow {
  id: string;
  first_slot: Date;
  last_slot: Date;
  fate: "paused" | "missed" | "dropped";
  reason: string;
}

export interface SlotRangeFate {
  first: Date;
  last: Date;
  count: number;
  fate: SlotFate;
  reason: string;
  /** The run of a single slot, else null. */
  runId: string | null;
  /** A single slot's start with the job's jitter, when the job has jitter; else null. */
  start: Date | null;
}

export interface FateSources {
  /** Slot runs after `after` (ascending, at most `limit`). */
  runsAfter: (after: Date, limit: number) => Promise<FateRun[]>;
  /** Ledger rows overlapping the window after `after` (by first slot and id), at most `limit`. */
  ledgerAfter: (after: FateLedgerRow | null, limit: number) => Promise<FateLedgerRow[]>;
  /** When replicas that run jobs were up, by start. */
  spans: { started_at: Date; live_until: Date }[];
}

export interface FateJob {
  name: string;
  schedule: string;
  timezone: string;
  dst: DstPolicy;
  jitterMs: number;
}

/** A window with more planned instants is refused: the report would not help, and costs seconds. */
export const MAX_WINDOW_SLOTS = 1_000_000;
/** Unrecorded slots this recent are `pending`: their claim or ledger write may still be on its way. */
export const PENDING_MS = 10_000;
const PAGE = 10_000;
const LEDGER_RANK = { dropped: 3, missed: 2, paused: 1 } as const;

export class WindowTooLargeError extends RangeError {}

/** The folded fates of the job's instants in (from, to]; `now` bounds what counts as pending. */
export async function slotFates(
  job: FateJob,
  from: Date,
  to: Date,
  sources: FateSources,
  now: Date,
): Promise<SlotRangeFate[]> {
  const ranges: SlotRangeFate[] = [];
  const ledger = new LedgerCursor(sources.ledgerAfter);
  let page: FateRun[] = [];
  let pageAt = 0;
  let pageEnd: Date | null = from;
  let count = 0;
  for (let t = nextInstant(job.schedule, job.timezone, from, job.dst); t && t <= to; ) {
    if (++count > MAX_WINDOW_SLOTS)
      throw new WindowTooLargeError(
        `the window holds more than ${MAX_WINDOW_SLOTS} planned instants; ask for a shorter one`,
      );
    // Past the runs before t; the next page once this one is used up (a full page may have more).
    for (;;) {
      while (pageAt < page.length && page[pageAt]!.scheduled_for < t) pageAt++;
      if (pageAt < page.length || !pageEnd) break;
      page = await sources.runsAfter(pageEnd, PAGE);
      pageAt = 0;
      pageEnd = page.length === PAGE ? page[page.length - 1]!.scheduled_for : null;
    }
    const run = page[pageAt]?.scheduled_for.getTime() === t.getTime() ? page[pageAt] : undefined;
    const [fate, reason] = classify(t, run, await ledger.at(t), sources.spans, now);
    const last = ranges[ranges.length - 1];
    if (last && last.fate === fate && last.reason === reason) {
      last.last = t;
      last.count++;
      last.runId = null;
      last.start = null;
    } else {
      const start = job.jitterMs > 0 ? jitteredStart(job.name, t, job.jitterMs) : null;
      ranges.push({ first: t, last: t, count: 1, fate, reason, runId: run?.run_id ?? null, start });
    }
    // Hand the event loop back every 1,000 instants (about 10 ms of croner here): a daemon
    // answering this must keep its timers on time.
    if (count % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    t = nextInstant(job.schedule, job.timezone, t, job.dst);
  }
  return ranges;
}

function classify(
  t: Date,
  run: FateRun | undefined,
  ledger: FateLedgerRow | undefined,
  spans: FateSources["spans"],
  now: Date,
): [SlotFate, string] {
  if (run) {
    if (run.status === "skipped") {
      if (run.error?.startsWith("missed: at capacity")) return ["missed", "at capacity"];
      return ["skipped", run.error ?? "skipped"];
    }
    const fate: SlotFate =
      run.trigger === "catch-up" ? "caught-up" : run.trigger === "backfill" ? "backfilled" : "ran";
    if (fate !== "caught-up") return [fate, run.status];
    // A slot caught up after a miss says why it was late: the ledger's cause, or no runner up.
    const cause = ledger?.reason ?? (up(spans, t) ? undefined : "runner down");
    return [fate, cause ? `${run.status}; missed: ${cause}` : run.status];
  }
  if (ledger) return [ledger.fate, ledger.reason];
  if (!up(spans, t)) return ["missed", "runner down"];
  return now.getTime() - t.getTime() < PENDING_MS
    ? ["pending", "not decided yet"]
    : ["missed", "not recorded"];
}

/** Whether a replica that runs jobs was up at `t`. */
function up(spans: FateSources["spans"], t: Date): boolean {
  return spans.some((s) => s.started_at <= t && s.live_until >= t);
}

/**
 * The ledger row covering each instant, asked in ascending order, with the strongest fate (several
 * replicas may have recorded the same slots). Rows are read in pages by first slot as the instants
 * reach them; those covering the instant are kept apart (a few at most), and dropped once ended.
 */
class LedgerCursor {
  #page: FateLedgerRow[] = [];
  #next = 0;
  #active: FateLedgerRow[] = [];
  #last: FateLedgerRow | null = null;
  #more = true;
  constructor(private readonly load: FateSources["ledgerAfter"]) {}

  async at(t: Date): Promise<FateLedgerRow | undefined> {
    for (;;) {
      while (this.#next < this.#page.length && this.#page[this.#next]!.first_slot <= t)
        this.#active.push(this.#page[this.#next++]!);
      if (this.#next < this.#page.length || !this.#more) break;
      this.#page = await this.load(this.#last, PAGE);
      this.#next = 0;
      this.#last = this.#page.at(-1) ?? this.#last;
      this.#more = this.#page.length === PAGE;
    }
    if (this.#active.length === 0) return undefined;
    this.#active = this.#active.filter((row) => row.last_slot >= t);
    let found: FateLedgerRow | undefined;
    for (const row of this.#active)
      if (!found || LEDGER_RANK[row.fate] > LEDGER_RANK[found.fate]) found = row;
    return found;
  }
}
