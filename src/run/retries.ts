import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { Store } from "../store/store.js";
import type { Job, RunOutcome, RunTrigger } from "../types.js";
import { retryDelay } from "../util/retry.js";

/** What starts one attempt of a run. */
export interface RunStart {
  job: Job;
  runId: string;
  trigger: RunTrigger;
  attempt: number;
  scheduledFor: Date | null;
  params: Record<string, string>;
  /** ctx.idempotencyKey: set by the first attempt, kept by its retries. */
  idempotencyKey?: string;
}

/**
 * A job's retries: after a failed or timed out attempt, wait the job's backoff (retryDelay) and
 * start the next attempt as its own row. A stop ends every wait at once and starts nothing more.
 */
export class Retries {
  private readonly waits = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    /** Start an attempt whose row is written, and settle it (its own retries included). */
    private readonly attempt: (start: RunStart) => Promise<RunOutcome>,
  ) {}

  /** The final outcome of a run whose attempt `start` ended with `outcome`. */
  async after(start: RunStart, outcome: RunOutcome): Promise<RunOutcome> {
    const { job, attempt, scheduledFor, params } = start;
    const retriable = outcome.status === "failed" || outcome.status === "timed_out";
    if (!retriable || attempt >= job.retries.attempts || this.stopped) return outcome;
    const delay = retryDelay(job.retries, attempt + 1);
    this.log.info({ job_name: job.name, attempt: attempt + 1, delay_ms: delay }, "retry scheduled");
    await this.wait(delay);
    if (this.stopped) return outcome;
    try {
      const runId = await this.store.insertRun({
        jobName: job.name,
        trigger: "retry",
        attempt: attempt + 1,
        scheduledFor,
        params,
      });
      return await this.attempt({ ...start, runId, trigger: "retry", attempt: attempt + 1 });
    } catch (error) {
      this.log.error({ job_name: job.name, err: error }, "could not start a retry: %s", errorMessage(error));
      return outcome;
    }
  }

  /** Start no more retries, and end the waits of those scheduled: their runs keep their last outcome. */
  stop(): void {
    this.stopped = true;
    for (const end of [...this.waits]) end();
  }

  /** Wait `ms`, or until stop. */
  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.waits.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.waits.add(end);
    });
  }
}
