import type { BackfillSummary, SlotDone } from "../run/backfill.js";
import { localTime } from "../schedule/explain.js";
import { printable } from "./printable.js";

/**
 * What `runner backfill` tells its user. On a terminal (stderr is a TTY): a progress bar on
 * stderr, redrawn in place, and a one-line summary on stdout. Otherwise JSON lines on stdout, one
 * per slot finished and a summary, for scripts and logs.
 */
export interface BackfillReport {
  /** `--dry-run`: the slots it would run. */
  planned(slots: Date[], alreadySucceeded: number): void;
  slot(done: SlotDone): void;
  summary(summary: BackfillSummary): void;
}

interface Window {
  job: string;
  timezone: string;
  from: Date;
  to: Date;
}

const line = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function summaryFields(window: Window, summary: BackfillSummary) {
  return {
    event: "summary",
    job_name: window.job,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    slots: summary.slots,
    already_succeeded: summary.alreadySucceeded,
    succeeded: summary.succeeded,
    failed: summary.failed,
    left: summary.left,
    stopped_because: summary.stoppedBecause,
  };
}

export function jsonReport(window: Window): BackfillReport {
  const local = (at: Date) => localTime(window.timezone, at.getTime());
  return {
    planned(slots, alreadySucceeded) {
      for (const slot of slots)
        line({ event: "slot", job_name: window.job, slot: slot.toISOString(), local: local(slot) });
      line({
        event: "summary",
        dry_run: true,
        job_name: window.job,
        slots: slots.length,
        already_succeeded: alreadySucceeded,
      });
    },
    slot(done) {
      line({
        event: "slot",
        job_name: window.job,
        slot: done.slot.toISOString(),
        local: local(done.slot),
        status: done.status,
        run_id: done.runId,
        ran_here: done.here,
        duration_ms: done.durationMs,
        error: done.error,
      });
    },
    summary: (summary) => line(summaryFields(window, summary)),
  };
}

const WIDTH = 30;

export function terminalReport(window: Window, total: number): BackfillReport {
  let done = 0;
  let failed = 0;
  const draw = () => {
    const all = Math.max(1, total);
    const filled = Math.round((done / all) * WIDTH);
    process.stderr.write(
      `\r${window.job} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${done}/${total} slots, ${failed} failed`,
    );
  };
  return {
    planned(slots, alreadySucceeded) {
      for (const slot of slots)
        console.log(`${slot.toISOString()}  ${localTime(window.timezone, slot.getTime())}`);
      console.log(
        `${slots.length} slot(s) to run, ${alreadySucceeded} already succeeded (dry run: nothing ran)`,
      );
    },
    slot(slot) {
      done++;
      if (slot.status !== "succeeded") {
        failed++;
        process.stderr.write(
          `\r\x1b[K${slot.slot.toISOString()} ${slot.status}: ${printable(slot.error ?? "")}\n`,
        );
      }
      draw();
    },
    summary(summary) {
      draw();
      process.stderr.write("\n");
      console.log(
        `backfill of ${window.job}: ${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.left} left, ` +
          `${summary.alreadySucceeded} already succeeded (${summary.slots} slots from ${window.from.toISOString()} to ${window.to.toISOString()})` +
          (summary.stoppedBecause ? `; stopped: ${summary.stoppedBecause}` : ""),
      );
    },
  };
}
