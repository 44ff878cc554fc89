import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { FailureCount, Store } from "../store/store.js";
import type { Job, RunOutcome } from "../types.js";
import { type Backoff, backoffDelay } from "../util/retry.js";

/** Tries before a stopping process gives up on an unreachable database (about 7.5 s of waits at most). */
const TRIES_WHEN_STOPPING = 5;
const BACKOFF: Backoff = { initialMs: 500, maxMs: 5000 };

/** An outcome being written: wake ends its backoff wait; waiters hear the result of its next try. */
interface Writing {
  wake: () => void;
  waiters: ((written: boolean) => void)[];
}

/**
 * Writes outcomes, retrying while the database is away (jittered backoff, 0.5 s doubling to 5 s):
 * a finished run is never forgotten. Gives up only when the process is stopping and the database
 * is still unreachable. Until written, a finished run's row still reads `running`, which the
 * overlap check of a claim would take for a run going on: flush() writes them first.
 */
export class OutcomeWriter {
  readonly #writing = new Map<string, Writing>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly stopping: () => boolean,
  ) {}

  /** Outcomes finished but not written yet. */
  get pending(): number {
    return this.#writing.size;
  }

  async record(runId: string, job: Job, outcome: RunOutcome): Promise<FailureCount | undefined> {
    const writing: Writing = { wake: () => {}, waiters: [] };
    const tell = (written: boolean) => {
      for (const waiter of writing.waiters.splice(0)) waiter(written);
    };
    this.#writing.set(runId, writing);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const failures = await this.store.finishRun(runId, job.name, outcome);
          tell(true);
          return failures;
        } catch (error) {
          tell(false);
          if (this.stopping() && attempt >= TRIES_WHEN_STOPPING) {
            this.log.error(
              { job_name: job.name, run_id: runId, status: outcome.status, err: error },
              "outcome could not be recorded",
            );
            return undefined;
          }
          const delayMs = backoffDelay(attempt - 1, BACKOFF);
          this.log.warn(
            { job_name: job.name, run_id: runId, retry_in_ms: delayMs },
            "recording outcome failed: %s",
            errorMessage(error),
          );
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delayMs);
            writing.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          writing.wake = () => {};
        }
      }
    } finally {
      this.#writing.delete(runId);
    }
  }

  /**
   * Try every outcome still waiting now, without its backoff, and wait for that try (or the one in
   * flight). Resolves with how many are still not written.
   */
  async flush(): Promise<number> {
    const tries = [...this.#writing.values()].map(
      (writing) =>
        new Promise<boolean>((resolve) => {
          writing.waiters.push(resolve);
          writing.wake();
        }),
    );
    return (await Promise.all(tries)).filter((written) => !written).length;
  }
}
