import { describe, expect, it } from "vitest";
import { reportLines } from "../../src/cli/explain-window.js";
import type { SlotRangeJson } from "../../src/observe/slot-report.js";
import { localTime } from "../../src/schedule/explain.js";
import {
  type FateLedgerRow,
  type FateRun,
  type FateSources,
  slotFates,
} from "../../src/schedule/slot-fates.js";
import { slotVerdict } from "../../src/schedule/slot-verdict.js";

// The reader's rules without a database: which source decides a slot's fate, how ranges fold,
// and what the verdict and the text lines say.
const t0 = Date.UTC(2026, 11, 1, 2, 0, 0);
const at = (minute: number) => new Date(t0 + minute * 60_000);
const job = {
  name: "every-minute",
  schedule: "* * * * *",
  timezone: "Europe/Berlin",
  dst: { repeated: "first", skipped: "shift" },
  jitterMs: 0,
} as const;
const run = (minute: number, trigger: string, status: string, error: string | null = null): FateRun => ({
  scheduled_for: at(minute),
  trigger,
  status,
  error,
  run_id: String(100 + minute),
});
const row = (from: number, to: number, fate: FateLedgerRow["fate"], reason: string): FateLedgerRow => ({
  id: `${from}-${fate}`,
  first_slot: at(from),
  last_slot: at(to),
  fate,
  reason,
});
const sources = (runs: FateRun[], ledger: FateLedgerRow[] = [], upTo = 60): FateSources => ({
  runsAfter: async (after, limit) => runs.filter((r) => r.scheduled_for > after).slice(0, limit),
  ledgerAfter: async (after, limit) => ledger.slice(after ? ledger.indexOf(after) + 1 : 0).slice(0, limit),
  spans: [{ started_at: at(-60), live_until: at(upTo) }],
});
/** A report's range of these minutes as JSON, in the job's zone; `ran (succeeded)` unless told. */
const range = (from: number, to: number, extra: Partial<SlotRangeJson>): SlotRangeJson => ({
  first: at(from).toISOString(),
  last: at(to).toISOString(),
  first_local: localTime(job.timezone, at(from).getTime()),
  last_local: localTime(job.timezone, at(to).getTime()),
  count: to - from + 1,
  fate: "ran",
  reason: "succeeded",
  run_id: null,
  start: null,
  ...extra,
});
const fold = (ranges: Awaited<ReturnType<typeof slotFates>>) =>
  ranges.map((r) => `${r.first.toISOString().slice(11, 16)}+${r.count} ${r.fate} (${r.reason})`);

describe("slot fates", () => {
  it("takes a slot's run first, then the strongest ledger row, then what nobody recorded", async () => {
    const ranges = await slotFates(
      job,
      at(0),
      at(12),
      sources(
        [
          run(1, "schedule", "succeeded"),
          run(2, "schedule", "succeeded"),
          run(3, "catch-up", "succeeded"),
          run(4, "schedule", "skipped", "previous run still running (overlap: skip)"),
          run(5, "schedule", "skipped", "missed: at capacity (no replica had room; MAX_CONCURRENT_RUNS)"),
          run(6, "backfill", "failed"),
        ],
        [
          row(3, 3, "missed", "database unreachable"),
          row(7, 9, "paused", "paused by ops"),
          row(8, 8, "missed", "database unreachable"),
          row(9, 9, "dropped", "catchUp none; missed: database unreachable"),
        ],
        10,
      ),
      at(20),
    );
    expect(fold(ranges)).toEqual([
      "02:01+2 ran (succeeded)",
      "02:03+1 caught-up (succeeded; missed: database unreachable)",
      "02:04+1 skipped (previous run still running (overlap: skip))",
      "02:05+1 missed (at capacity)",
      "02:06+1 backfilled (failed)",
      "02:07+1 paused (paused by ops)",
      "02:08+1 missed (database unreachable)",
      "02:09+1 dropped (catchUp none; missed: database unreachable)",
      "02:10+1 missed (not recorded)",
      "02:11+2 missed (runner down)",
    ]);
    expect(ranges[0]!.runId).toBeNull();
    expect(ranges[1]!.runId).toBe("103");
    expect(slotVerdict(ranges, job.timezone)).toBe(
      "1 slot skipped: previous run still running (overlap: skip) 03:04; 1 slot missed: at capacity 03:05; " +
        "1 slot paused: paused by ops 03:07; 1 slot missed: database unreachable 03:08; " +
        "1 slot dropped: catchUp none; missed: database unreachable 03:09; 1 slot missed: not recorded 03:10; " +
        "2 slots missed: runner down 03:11–03:12",
    );
  });

  it("says a slot caught up after downtime was missed with the runner down; recent ones are pending", async () => {
    const ranges = await slotFates(
      job,
      at(0),
      at(4),
      sources([run(2, "catch-up", "succeeded")], [], 1),
      at(4),
    );
    expect(fold(ranges)).toEqual([
      "02:01+1 missed (not recorded)",
      "02:02+1 caught-up (succeeded; missed: runner down)",
      "02:03+2 missed (runner down)",
    ]);
    const recent = await slotFates(job, at(0), at(2), sources([]), new Date(at(2).getTime() + 5000));
    expect(fold(recent)).toEqual(["02:01+1 missed (not recorded)", "02:02+1 pending (not decided yet)"]);
  });

  it("folds thousands of slots read in pages, and says every slot ran", async () => {
    const runs = Array.from({ length: 25_000 }, (_, i) =>
      run(i + 1, "schedule", i === 7 ? "failed" : "succeeded"),
    );
    const ranges = await slotFates(job, at(0), at(25_000), sources(runs, [], 30_000), at(30_000));
    expect(fold(ranges)).toEqual([
      "02:01+7 ran (succeeded)",
      "02:08+1 ran (failed)",
      "02:09+24992 ran (succeeded)",
    ]);
    expect(slotVerdict(ranges, job.timezone)).toBe("every slot ran (1 did not succeed)");
  });

  it("prints one line per range in the job's zone, with a single slot's run and jittered start", () => {
    const lines = reportLines({
      job_name: "every-minute",
      schedule: "* * * * *",
      timezone: "Europe/Berlin",
      from: at(0).toISOString(),
      to: at(60).toISOString(),
      slots: 61,
      ranges: [
        range(1, 60, {}),
        range(61, 61, {
          fate: "skipped",
          reason: "a reason with an escape \u001b[2J",
          run_id: "42",
          start: "2026-12-01T03:01:07.250Z",
        }),
      ],
      verdict: "1 slot skipped: a reason with an escape \u001b[2J 04:01",
    });
    expect(lines).toEqual([
      `every-minute (* * * * *) in Europe/Berlin, slots after ${at(0).toISOString()} up to ${at(60).toISOString()}: 61`,
      "  2026-12-01 03:01:00–04:00:00  60 slots  ran (succeeded)",
      "  2026-12-01 04:01:00  1 slot  skipped (a reason with an escape \\x1b[2J)  run 42  starts 03:01:07.250Z (jitter)",
      "1 slot skipped: a reason with an escape \\x1b[2J 04:01",
    ]);
  });
});
