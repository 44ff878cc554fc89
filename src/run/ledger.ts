import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import { latestInstant, nextInstant } from "../schedule/cron.js";
import type { SlotRange, Store } from "../store/store.js";
import type { Job } from "../types.js";
import type { RunEventBus } from "./events.js";

/**
 * How often folded ranges go to the database: one statement every 5 s at most, whatever the jobs.
 * A paused per-second job's row is then updated once per 5 slots, not per slot; a replica killed
 * loses at most this long of ledger fates (read as "not recorded").
 */
const FLUSH_MS = 5000;
/** Closed ranges kept while the database is away; past this the oldest are dropped (and logged). */
const MAX_WAITING = 10_000;
/** Idle keys (job, fate, reason) kept to extend their row in place; past this they are forgotten. */
const MAX_KEYS = 50_000;

interface Open {
  job: Job;
  fate: SlotRange["fate"];
  reason: string;
  /** The newest slot seen; the next range continues the row if it starts at the next instant. */
  last: Date;
  /** Slots not written yet (0 once flushed); `first` and `previous` describe them. */
  count: number;
  first: Date;
  previous: Date | null;
}

/**
 * Writes the slot ledger (job_slots) from `fate` events: consecutive slots of a job with the same
 * fate and reason fold in memory into one range, and the ranges go out together every 5 s in one
 * statement that extends each job's row in place (src/store/slots.ts). 10,000 paused per-second
 * jobs cost one statement every 5 s updating 10,000 rows, not 10,000 inserts a second. Each slot
 * recorded is counted (`slots` event: job_slots_total). Returns the stop hook, which writes what
 * is left.
 */
export function keepLedger(
  events: RunEventBus,
  store: Pick<Store, "slots">,
  log: Logger,
): () => Promise<void> {
  const open = new Map<string, Open>();
  let waiting: SlotRange[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastWarning = 0;
  /** One write at a time: a range continuing one still being written must find its row. */
  let writing: Promise<void> | undefined;

  const add = (job: Job, instant: Date, fate: Open["fate"], reason: string) => {
    const key = keyOf(job.name, fate, reason);
    const entry = open.get(key);
    if (entry && instant <= entry.last) return;
    if (
      entry &&
      nextInstant(job.schedule, job.timezone, entry.last, job.dst)?.getTime() === instant.getTime()
    ) {
      if (entry.count === 0) Object.assign(entry, { first: instant, previous: entry.last });
      entry.last = instant;
      entry.count++;
      return;
    }
    if (entry && entry.count > 0) waiting.push(rangeOf(entry));
    if (open.size >= MAX_KEYS) for (const [k, e] of open) if (e.count === 0) open.delete(k);
    const previous = latestInstant(job.schedule, job.timezone, new Date(instant.getTime() - 1), job.dst);
    open.set(key, { job, fate, reason, last: instant, count: 1, first: instant, previous });
  };

  /** Put a range that could not be written back in front of its key's open range, if that continues it. */
  const rejoin = (range: SlotRange): boolean => {
    const entry = open.get(keyOf(range.jobName, range.fate, range.reason));
    if (!entry) return false;
    if (entry.count === 0 && entry.last.getTime() === range.last.getTime()) {
      Object.assign(entry, { first: range.first, previous: range.previous, count: range.count });
      return true;
    }
    if (entry.count > 0 && entry.previous?.getTime() === range.last.getTime()) {
      Object.assign(entry, {
        first: range.first,
        previous: range.previous,
        count: entry.count + range.count,
      });
      return true;
    }
    return false;
  };

  const flush = async (): Promise<void> => {
    timer = undefined;
    while (writing) await writing;
    writing = write().finally(() => {
      writing = undefined;
    });
    await writing;
  };
  const write = async () => {
    const ranges = [...waiting];
    for (const entry of open.values()) if (entry.count > 0) ranges.push(rangeOf(entry));
    waiting = [];
    for (const entry of open.values()) entry.count = 0;
    if (ranges.length === 0) return;
    try {
      const recorded = await store.slots.record(ranges);
      for (const [i, range] of ranges.entries())
        if (recorded[i]! > 0)
          events.emit("slots", { jobName: range.jobName, fate: range.fate, count: recorded[i]! });
    } catch (error) {
      // Ranges continuing one that failed join it again, so the retry extends one row, not two.
      waiting = [...ranges.filter((range) => !rejoin(range)), ...waiting];
      if (waiting.length > MAX_WAITING) waiting.splice(0, waiting.length - MAX_WAITING);
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        log.warn(
          { ranges: waiting.length },
          "recording the slot ledger failed, will retry: %s",
          errorMessage(error),
        );
      }
      arm();
    }
  };
  const arm = () => {
    if (timer) return;
    timer = setTimeout(() => void flush(), FLUSH_MS);
    timer.unref();
  };

  events.on("fate", ({ job, instants, fate, reason }) => {
    for (const instant of [...instants].sort((a, b) => a.getTime() - b.getTime()))
      add(job, instant, fate, reason);
    arm();
  });
  return async () => {
    if (timer) clearTimeout(timer);
    await flush();
  };
}

const keyOf = (jobName: string, fate: string, reason: string) => `${jobName}\u0000${fate}\u0000${reason}`;

function rangeOf(entry: Open): SlotRange {
  return {
    jobName: entry.job.name,
    first: entry.first,
    last: entry.last,
    count: entry.count,
    fate: entry.fate,
    reason: entry.reason,
    previous: entry.previous,
  };
}
