import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { FailureCount, Store } from "../store/store.js";
import type { Job, RunOutcome } from "../types.js";
import { retry } from "../util/retry.js";

/** Tries before a stopping process gives up on an unreachable database (about 7.5 s of waits at most). */
const TRIES_WHEN_STOPPING = 5;

/**
 * Write the outcome, retrying while the database is away: a finished run is never forgotten.
 * Gives up only when the process is stopping and the database is still unreachable.
 */
export async function recordOutcome(
  store: Store,
  log: Logger,
  stopping: () => boolean,
  runId: string,
  job: Job,
  outcome: RunOutcome,
): Promise<FailureCount | undefined> {
  try {
    return await retry(() => store.finishRun(runId, job.name, outcome), {
      initialMs: 500,
      maxMs: 5000,
      giveUp: ({ attempt }) => stopping() && attempt >= TRIES_WHEN_STOPPING,
      onError: ({ error, delayMs }) =>
        log.warn(
          { job_name: job.name, run_id: runId, retry_in_ms: delayMs },
          "recording outcome failed: %s",
          errorMessage(error),
        ),
    });
  } catch (error) {
    log.error(
      { job_name: job.name, run_id: runId, status: outcome.status, err: error },
      "outcome could not be recorded",
    );
    return undefined;
  }
}
