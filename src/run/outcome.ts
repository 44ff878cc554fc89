import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { FailureCount, Store } from "../store/store.js";
import type { Job, RunOutcome } from "../types.js";
import { type Backoff, backoffDelay } from "../util/retry.js";

/** Tries before a stopping process gives up on an unreachable database (about 7.5 s of waits at most). */
const TRIES_WHEN_STOPPING = 5;
const BACKOFF: Backoff = { initialMs: 500, maxMs: 5000 };
/** Outcomes per statement: large enough for a fan-out's second, small enough for one round trip. */
const MAX_BATCH = 2000;

/** A finished run waiting for its outcome to be written: the run itself, so waiting costs no object of its own. */
export interface Finished {
  runId: string;
  job: Job;
  outcome: RunOutcome | undefined;
}

/**
 * Writes outcomes in batches (group commit): outcomes that settle while a write is going, or in
 * the same turn of the event loop, go out together in one statement, so bookkeeping costs a few
 * statements a second rather than two per run. An outcome waits for the write in flight, or, when
 * it settles just after an instant, for the end of that instant's claim window (claim-windows.ts:
 * 30 ms at most), then one round trip.
 * The queue is bounded by the runs in flight, since a run stays running until its outcome is
 * written. While the database is away a batch is retried (jittered backoff, 0.5 s doubling to
 * 5 s): a finished run is never forgotten; a stopping process gives up after a few tries and
 * leaves the rows to the reaper. Until written, a finished run's row still reads `running`, which
 * the overlap check of a claim would take for a run going on: flush() writes them first.
 * `written` hears of each run once its outcome is written (with the job's failure counts around
 * it), or given up (undefined): one callback for all, not a promise per run, since a per-second
 * fan-out holds 10,000 runs here while their batch is written (bench/RESULTS.md).
 */
export class OutcomeWriter<R extends Finished> {
  #queue: R[] = [];
  #inFlight: R[] = [];
  #writing = false;
  /** Cancels the write that is scheduled and not begun. */
  #cancelScheduled: (() => void) | undefined;
  /** Ends the current backoff wait early (flush). */
  #wake: () => void = () => {};
  /** flush() callers, told after the next write attempt how many outcomes are still not written. */
  #flushers: ((left: number) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly stopping: () => boolean,
    private readonly written: (run: R, failures: FailureCount | undefined) => void,
    /** Until when a write waits (the end of an instant's claim window), or undefined: now. */
    private readonly heldUntil: () => number | undefined = () => undefined,
  ) {}

  /** Outcomes finished but not written yet. */
  get pending(): number {
    return this.#queue.length + this.#inFlight.length;
  }

  /** Write this run's outcome (set on it) soon; `written` hears when. */
  record(run: R): void {
    this.#queue.push(run);
    this.#schedule();
  }

  /**
   * Write every outcome still waiting now, without its backoff, and wait until they are written or
   * a try fails. Resolves with how many are still not written.
   */
  flush(): Promise<number> {
    if (this.pending === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.#flushers.push(resolve);
      this.#wake();
      this.#cancelScheduled?.();
      this.#cancelScheduled = undefined;
      void this.#drain();
    });
  }

  /** Write in the next turn, or at the end of the claim window it is in; the write in flight's loop takes the queue. */
  #schedule(): void {
    if (this.#writing || this.#cancelScheduled) return;
    const write = () => {
      this.#cancelScheduled = undefined;
      void this.#drain();
    };
    const wait = (this.heldUntil() ?? 0) - Date.now();
    if (wait > 0) {
      const timer = setTimeout(write, wait);
      this.#cancelScheduled = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(write);
      this.#cancelScheduled = () => clearImmediate(immediate);
    }
  }

  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        this.#inFlight = this.#queue.splice(0, MAX_BATCH);
        const counts = await this.#write(this.#inFlight);
        const done = this.#inFlight;
        this.#inFlight = [];
        for (let i = 0; i < done.length; i++) this.#notify(done[i]!, counts[i]);
        if (this.#queue.length === 0) this.#tell(0);
      }
    } finally {
      this.#writing = false;
    }
  }

  /** A listener that throws must not stop the others being told, nor the drain. */
  #notify(run: R, failures: FailureCount | undefined): void {
    try {
      this.written(run, failures);
    } catch (error) {
      this.log.error({ job_name: run.job.name, run_id: run.runId, err: error }, "after recording an outcome");
    }
  }

  #tell(left: number): void {
    for (const flusher of this.#flushers.splice(0)) flusher(left);
  }

  async #write(batch: R[]): Promise<(FailureCount | undefined)[]> {
    const runs = batch.map(({ runId, job, outcome }) => ({
      id: runId,
      jobName: job.name,
      outcome: outcome!,
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.finishRuns(runs);
      } catch (error) {
        this.#tell(this.pending);
        if (this.stopping() && attempt >= TRIES_WHEN_STOPPING) {
          for (const { runId, job, outcome } of batch)
            this.log.error(
              { job_name: job.name, run_id: runId, status: outcome?.status, err: error },
              "outcome could not be recorded",
            );
          return batch.map(() => undefined);
        }
        const delayMs = backoffDelay(attempt - 1, BACKOFF);
        this.log.warn(
          { runs: batch.length, job_name: batch[0]?.job.name, run_id: batch[0]?.runId, retry_in_ms: delayMs },
          "recording outcome failed (%d in the batch): %s",
          batch.length,
          errorMessage(error),
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = () => {};
      }
    }
  }
}
