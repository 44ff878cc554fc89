import { localTime } from "../schedule/explain.js";
import { type FateJob, type SlotRangeFate, slotFates } from "../schedule/slot-fates.js";
import { slotVerdict } from "../schedule/slot-verdict.js";
import type { Store } from "../store/store.js";
import { iso } from "../util/iso.js";

/** A range of a slot report as JSON (docs/contract.md#http): the CLI's --json and the HTTP answer. */
export interface SlotRangeJson {
  first: string;
  last: string;
  /** Local times in the job's zone, with the offset. */
  first_local: string;
  last_local: string;
  count: number;
  fate: string;
  reason: string;
  run_id: string | null;
  /** A single slot's start with the job's jitter; null without jitter or for a range. */
  start: string | null;
}

export interface SlotReport {
  job_name: string;
  schedule: string;
  timezone: string;
  /** The window read: (from, to], `from` no earlier than the job's first sighting, `to` no later than now. */
  from: string;
  to: string;
  slots: number;
  ranges: SlotRangeJson[];
  verdict: string;
}

/**
 * Every planned instant of the job in (from, to] with its fate and reason, folded into ranges, and
 * the verdict: what `runner explain <job> --from --to` prints and GET /v1/admin/jobs/:name/slots
 * answers. Throws WindowTooLargeError past MAX_WINDOW_SLOTS instants.
 */
export async function slotReport(
  store: Pick<Store, "slots">,
  job: FateJob & { enabled?: boolean },
  window: { from: Date; to: Date },
  now = new Date(),
): Promise<SlotReport> {
  const to = new Date(Math.min(window.to.getTime(), now.getTime()));
  // Slots before the job existed are not its misses, but a backfill may have run some of them:
  // the report starts at the earlier of its first sighting and its first run in the window.
  const [firstSeen, firstRun] = await Promise.all([
    store.slots.firstSeen(job.name),
    store.slots.firstRun(job.name, window.from, to),
  ]);
  const since = Math.min(
    firstSeen?.getTime() ?? window.from.getTime(),
    (firstRun?.getTime() ?? Infinity) - 1,
  );
  const from = new Date(Math.max(window.from.getTime(), since));
  const ranges =
    from < to
      ? await slotFates(
          job,
          from,
          to,
          {
            runsAfter: (after, limit) => store.slots.runs(job.name, after, to, limit),
            ledgerAfter: (after, limit) => store.slots.ledger(job.name, from, to, after, limit),
            spans: await store.slots.spans(from, to),
          },
          now,
        )
      : [];
  return {
    job_name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    from: from.toISOString(),
    to: to.toISOString(),
    slots: ranges.reduce((sum, r) => sum + r.count, 0),
    ranges: ranges.map((r) => rangeJson(job.timezone, r)),
    // A disabled job's slots are never claimed: say so, or its unrecorded slots read as a mystery.
    verdict: `${job.enabled === false ? "the job is disabled (enabled: false); " : ""}${slotVerdict(ranges, job.timezone)}`,
  };
}

function rangeJson(timezone: string, r: SlotRangeFate): SlotRangeJson {
  return {
    first: r.first.toISOString(),
    last: r.last.toISOString(),
    first_local: localTime(timezone, r.first.getTime()),
    last_local: localTime(timezone, r.last.getTime()),
    count: r.count,
    fate: r.fate,
    reason: r.reason,
    run_id: r.runId,
    start: iso(r.start),
  };
}
