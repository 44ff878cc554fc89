import { localTime } from "./explain.js";
import type { SlotRangeFate } from "./slot-fates.js";

/** How many ranges of one fate and reason the verdict names before "and N more". */
const NAMED_RANGES = 3;
const RAN = new Set(["ran", "caught-up", "backfilled"]);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A local clock time in the zone, without seconds when they are zero on both ends. */
function clock(timezone: string, at: Date): string {
  return localTime(timezone, at.getTime()).slice(11, 19);
}

/** `02:10–02:14`, or one time for a single slot, in the job's zone. */
export function rangeClock(timezone: string, range: Pick<SlotRangeFate, "first" | "last">): string {
  const [a, b] = [clock(timezone, range.first), clock(timezone, range.last)];
  const short = a.endsWith(":00") && b.endsWith(":00");
  const [x, y] = short ? [a.slice(0, 5), b.slice(0, 5)] : [a, b];
  return range.first.getTime() === range.last.getTime() ? x : `${x}–${y}`;
}

/**
 * One line for the whole window: "every slot ran", or what happened to the slots that did not
 * run, grouped by fate and reason with their times ("4 slots missed: runner down 02:10–02:14").
 */
export function slotVerdict(ranges: readonly SlotRangeFate[], timezone: string): string {
  const total = ranges.reduce((sum, r) => sum + r.count, 0);
  if (total === 0) return "no planned instant in the window";
  const groups = new Map<string, SlotRangeFate[]>();
  let pending = 0;
  let unsuccessful = 0;
  for (const range of ranges) {
    if (range.fate === "pending") pending += range.count;
    else if (RAN.has(range.fate)) {
      if (!/^(succeeded|running)/.test(range.reason)) unsuccessful += range.count;
    } else {
      const key = `${range.fate}: ${range.reason}`;
      groups.set(key, [...(groups.get(key) ?? []), range]);
    }
  }
  const tail = pending > 0 ? `; ${plural(pending, "slot")} pending` : "";
  if (groups.size === 0) {
    const failed = unsuccessful > 0 ? ` (${unsuccessful} did not succeed)` : "";
    return `every slot ran${failed}${tail}`;
  }
  const parts = [...groups].map(([key, list]) => {
    const count = list.reduce((sum, r) => sum + r.count, 0);
    const times = list.slice(0, NAMED_RANGES).map((r) => rangeClock(timezone, r));
    const more = list.length > NAMED_RANGES ? ` and ${list.length - NAMED_RANGES} more` : "";
    return `${plural(count, "slot")} ${key} ${times.join(", ")}${more}`;
  });
  return `${parts.join("; ")}${tail}`;
}
