import { ConfigError } from "../errors.js";
import { type SlotRangeJson, type SlotReport, slotReport } from "../observe/slot-report.js";
import { dstPolicy } from "../schedule/cron.js";
import { type FateJob, WindowTooLargeError } from "../schedule/slot-fates.js";
import { parseWindow } from "../util/window.js";
import { type CommonFlags, prepare, printJson } from "./context.js";
import { printable } from "./printable.js";
import { requireKnownJob } from "./published.js";

export interface WindowFlags extends CommonFlags {
  from?: string;
  to?: string;
  json?: boolean;
}

/**
 * `runner explain <job> [--from T] [--to T]`: every planned instant of the job in the window (the
 * last 24 h by default) with its fate and reason, ranges folded, and a one-line verdict. The job
 * comes from this process's registry, else from what the daemons publish (job_catalog).
 */
export async function explainWindow(name: string, flags: WindowFlags): Promise<number> {
  const window = parseWindow({ from: flags.from, to: flags.to });
  if ("problems" in window) throw new ConfigError(window.problems.map((p) => `--${p}`));
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    const published = await requireKnownJob(daemon, store, name);
    const job: FateJob & { enabled: boolean } = daemon.registry.get(name) ?? {
      name,
      schedule: published!.schedule,
      timezone: published!.timezone,
      dst: dstPolicy(published!.schedule),
      jitterMs: 0,
      enabled: published!.enabled,
    };
    let report: SlotReport;
    try {
      report = await slotReport(store, job, window);
    } catch (error) {
      if (error instanceof WindowTooLargeError) throw new ConfigError(`--from/--to: ${error.message}`);
      throw error;
    }
    if (flags.json) printJson(report);
    else for (const line of reportLines(report)) console.log(line);
    return 0;
  } finally {
    await daemon.stop();
  }
}

/** The header, one line per range in the job's zone, and the verdict. */
export function reportLines(report: SlotReport): string[] {
  const head = `${report.job_name} (${report.schedule}) in ${report.timezone}, slots after ${report.from} up to ${report.to}: ${report.slots}`;
  return [head, ...report.ranges.map(rangeLine), printable(report.verdict)];
}

/** `  2026-12-01 07:00:00–07:59:59  3600 slots  ran (succeeded)`, with the run and jittered start of one slot. */
function rangeLine(range: SlotRangeJson): string {
  const first = range.first_local.slice(0, 19);
  const last = range.last_local.slice(0, 19);
  const span =
    range.count === 1
      ? first
      : first.slice(0, 10) === last.slice(0, 10)
        ? `${first}–${last.slice(11)}`
        : `${first}–${last}`;
  const extra = [
    range.run_id ? `run ${range.run_id}` : "",
    range.start ? `starts ${range.start.slice(11, 23)}Z (jitter)` : "",
  ].filter(Boolean);
  const count = `${range.count} slot${range.count === 1 ? "" : "s"}`;
  return [`  ${span}`, count, `${range.fate} (${printable(range.reason)})`, ...extra].join("  ");
}
