import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { FailureCount, Store } from "../store/store.js";
import type { Job, RunOutcome } from "../types.js";
import { retry } from "../util/retry.js";

/** Tries before a stopping process gives up on an unreachable database (about 7.5 s of waits at most). */
const TRIES_WHEN_STOPPING = 5;
/** Outcomes per statement: large enough for a fan-out's second, small enough for one round trip. */
const MAX_BATCH = 2000;

interface Pending {
  runId: string;
  job: Job;
  outcome: RunOutcome;
  resolve: (failures: FailureCount | undefined) => void;
}

/**
 * Writes outcomes in batches (group commit): outcomes that settle while a write is going, or in
 * the same turn of the event loop, go out together in one statement. An outcome is written in the
 * turn after its handler settles when nothing else is being written, else right after the write
 * in flight: the delay is one round trip. The queue is bounded by the runs in flight, since a run
 * stays running until its outcome is written. While the database is away a batch is retried with
 * backoff (a finished run is never forgotten); a stopping process gives up after a few tries and
 * leaves the rows to the reaper.
 */
export class OutcomeWriter {
  #queue: Pending[] = [];
  #writing = false;
  #scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly stopping: () => boolean,
  ) {}

  /** Resolves with the job's failure counts around this run, or undefined when it was not written. */
  record(runId: string, job: Job, outcome: RunOutcome): Promise<FailureCount | undefined> {
    return new Promise((resolve) => {
      this.#queue.push({ runId, job, outcome, resolve });
      if (this.#writing || this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#drain();
      });
    });
  }

  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        const counts = await this.#write(batch);
        batch.forEach((pending, i) => pending.resolve(counts[i]));
      }
    } finally {
      this.#writing = false;
    }
  }

  async #write(batch: Pending[]): Promise<(FailureCount | undefined)[]> {
    const runs = batch.map(({ runId, job, outcome }) => ({ id: runId, jobName: job.name, outcome }));
    try {
      return await retry(() => this.store.finishRuns(runs), {
        initialMs: 500,
        maxMs: 5000,
        giveUp: ({ attempt }) => this.stopping() && attempt >= TRIES_WHEN_STOPPING,
        onError: ({ error, delayMs }) =>
          this.log.warn(
            {
              runs: batch.length,
              job_name: batch[0]?.job.name,
              run_id: batch[0]?.runId,
              retry_in_ms: delayMs,
            },
            "recording outcome failed (%d in the batch): %s",
            batch.length,
            errorMessage(error),
          ),
      });
    } catch (error) {
      for (const { runId, job, outcome } of batch)
        this.log.error(
          { job_name: job.name, run_id: runId, status: outcome.status, err: error },
          "outcome could not be recorded",
        );
      return batch.map(() => undefined);
    }
  }
}
