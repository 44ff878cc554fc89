import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { errorMessage } from "../errors.js";
import type { RunEventBus } from "./events.js";

/** A handler may report progress in a tight loop: at most one write per run and interval. */
const WRITE_EVERY_MS = 1000;

/**
 * Keeps each running run's latest ctx.progress(done, total) in its row (job_runs.progress_*), so
 * `runner status`, the admin status and the console can show it from any replica. The first
 * report is written at once, later ones at most once a second (the latest wins); a failed write is
 * logged at debug and the next report tries again: progress is a hint, never a reason to fail.
 */
export function keepProgress(events: RunEventBus, store: Store, log: Logger): void {
  /** Runs written within the last interval, with the latest report that has waited since. */
  const recent = new Map<
    string,
    { timer: NodeJS.Timeout; latest?: { done: number; total: number | null } }
  >();
  const send = (runId: string, done: number, total: number | null) => {
    store
      .setProgress(runId, done, total)
      .catch((error) => log.debug({ run_id: runId }, "progress not kept: %s", errorMessage(error)));
    const timer = setTimeout(() => {
      const waited = recent.get(runId)?.latest;
      recent.delete(runId);
      if (waited) send(runId, waited.done, waited.total);
    }, WRITE_EVERY_MS);
    timer.unref();
    recent.set(runId, { timer });
  };
  events.on("progress", ({ runId, done, total }) => {
    const written = recent.get(runId);
    if (written) written.latest = { done, total: total ?? null };
    else send(runId, done, total ?? null);
  });
  events.on("finished", ({ runId }) => {
    clearTimeout(recent.get(runId)?.timer);
    recent.delete(runId);
  });
}
