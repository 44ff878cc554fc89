import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { KnownJobs, Store } from "../store/store.js";
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
 * ctx.idempotencyKey: the same for every attempt of a slot, on every replica; a run without a slot
 * keeps its first attempt's id. Made when asked (most handlers never read it).
 */
export function idempotencyKeyOf(start: RunStart): string {
  if (start.idempotencyKey) return start.idempotencyKey;
  return start.scheduledFor ? `${start.job.name}@${start.scheduledFor.toISOString()}` : start.runId;
}

/** A retry decided at its attempt's end: due at `dueAt`; `recorded` once its row is written. */
export interface PlannedRetry {
  dueAt: Date;
  delayMs: number;
  recorded: boolean;
}

/**
 * How long past its due time a replica waits before taking a retry it did not schedule: the
 * scheduling process's head start, so while it lives it runs its own retries and its caller
 * (`--once`, triggerJob's `done`) sees the final outcome. The same 2 s as a slot's on-time tolerance.
 */
const TAKEOVER_MS = 2000;

/** The longest delay setTimeout keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A job's retries, as rows (job_retries): when a failed or timed out attempt ends, the next
 * attempt is recorded with its due time (the job's backoff, retryDelay) before the attempt's
 * outcome is written (plan), so no crash between the two loses it; once the outcome is written this
 * process waits for it in memory and then takes the row and starts the attempt as its own job_runs
 * row (after). Every replica's
 * loop also arms a timer for the retries of its jobs coming due (adopt), and takes one that is
 * still there TAKEOVER_MS after its time: its scheduler died, stopped, or restarted. Taking is
 * deleting the row (RetryStore.take), so each attempt runs once. A stop ends every wait and starts
 * nothing more; the rows stay for another replica or the next start.
 */
export class Retries {
  /** The waits of this process, by the run each retries; ending one early says not to take it. */
  private readonly waits = new Map<string, (due: boolean) => void>();
  /** Retries being recorded: a stop waits for them, so a retry scheduled while stopping is kept. */
  private readonly writes = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    /** Start an attempt whose row is written, and settle it (its own retries included). */
    private readonly attempt: (start: RunStart) => Promise<RunOutcome>,
  ) {}

  /**
   * Decide at an attempt's end, before its outcome is written, whether a retry follows, and write
   * its row now: a replica that dies before the outcome is recorded leaves the retry behind (the
   * reaper marks the attempt abandoned; a loop takes the retry at its time). Undefined: no retry.
   */
  async plan(start: RunStart, outcome: RunOutcome): Promise<PlannedRetry | undefined> {
    const { job, attempt } = start;
    const retriable = outcome.status === "failed" || outcome.status === "timed_out";
    if (!retriable || attempt >= job.retries.attempts) return undefined;
    const delayMs = retryDelay(job.retries, attempt + 1);
    const planned = { dueAt: new Date(Date.now() + delayMs), delayMs, recorded: false };
    // Recorded even while stopping: the retry is then another replica's, or this one's next start's.
    // A refusal here (the database away) is tried again once the outcome is written, as it answers then.
    planned.recorded = await this.record(start, planned, "warn");
    return planned;
  }

  /**
   * The final outcome of a run whose attempt `start` ended with `outcome`, once that outcome is
   * written, as far as this process knows: the attempt's own when no retry follows (`planned`
   * undefined, or its row could not be written), when this process stops before the retry is
   * due, or when another replica took the retry (it records that attempt).
   */
  async after(start: RunStart, outcome: RunOutcome, planned: PlannedRetry | undefined): Promise<RunOutcome> {
    if (!planned) return outcome;
    if (!planned.recorded && !(await this.record(start, planned, "error"))) return outcome;
    // Past what a timer can hold (24.8 days), the loops take it when it comes due.
    const waitMs = Math.max(0, planned.dueAt.getTime() - Date.now());
    if (this.stopped || planned.delayMs > MAX_TIMER_MS || !(await this.wait(start.runId, waitMs)))
      return outcome;
    const next = await this.take(start.job, start.runId);
    return next ? this.attempt(next) : outcome;
  }

  /**
   * The loop's step: arm a timer for every retry of these jobs due within `horizonMs` that this
   * process is not waiting for already (scheduled by another replica, or by this one before a
   * restart), to take it TAKEOVER_MS after its due time if it is still there. `jobOf` is asked
   * again then: a job removed meanwhile, or a replica no longer running jobs, takes nothing.
   */
  async adopt(jobOf: (name: string) => Job | undefined, known: KnownJobs, horizonMs: number): Promise<void> {
    if (this.stopped) return;
    const rows = await this.store.retries.dueBefore(known, new Date(Date.now() + horizonMs));
    for (const row of rows) {
      if (this.stopped || this.waits.has(row.retry_of) || !jobOf(row.job_name)) continue;
      const delayMs = Math.max(0, row.due_at.getTime() + TAKEOVER_MS - Date.now());
      void this.wait(row.retry_of, delayMs).then(async (due) => {
        const job = jobOf(row.job_name);
        if (!due || this.stopped || !job) return;
        const next = await this.take(job, row.retry_of);
        if (!next) {
          this.log.debug({ job_name: job.name, retry_of: row.retry_of }, "retry already taken");
          return;
        }
        this.log.info(
          {
            job_name: job.name,
            run_id: next.runId,
            attempt: next.attempt,
            retry_of: row.retry_of,
            scheduled_by: row.scheduled_by,
          },
          "retry taken over from %s",
          row.scheduled_by,
        );
        await this.attempt(next);
      });
    }
  }

  /** Start no more retries, and end the waits: their rows stay in job_retries. */
  stop(): void {
    this.stopped = true;
    for (const end of [...this.waits.values()]) end(false);
  }

  /** Resolves once the retries being recorded now are written (or failed). */
  async recorded(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  /**
   * Record the next attempt of `start`'s run, due at `planned.dueAt`, and log it. False when the
   * database refused, logged at `level` (warn when it is tried again after the outcome).
   */
  private async record(start: RunStart, planned: PlannedRetry, level: "warn" | "error"): Promise<boolean> {
    const { job, attempt, runId } = start;
    const write = this.store.retries.schedule({
      retryOf: runId,
      jobName: job.name,
      scheduledFor: start.scheduledFor,
      attempt: attempt + 1,
      params: start.params,
      idempotencyKey: idempotencyKeyOf(start),
      runAfter: planned.dueAt,
      overlapSkip: job.overlap === "skip",
    });
    this.writes.add(write);
    try {
      await write;
    } catch (error) {
      this.log[level](
        { job_name: job.name, run_id: runId, err: error },
        level === "warn"
          ? "could not schedule a retry before its attempt's outcome (tried again after it): %s"
          : "could not schedule a retry: %s",
        errorMessage(error),
      );
      return false;
    } finally {
      this.writes.delete(write);
    }
    this.log.info(
      {
        job_name: job.name,
        attempt: attempt + 1,
        delay_ms: planned.delayMs,
        due_at: planned.dueAt.toISOString(),
        retry_of: runId,
      },
      "retry scheduled",
    );
    return true;
  }

  /** Take the retry of `retryOf` (its attempt's row is written); undefined when another replica has it. */
  private async take(job: Job, retryOf: string): Promise<RunStart | undefined> {
    try {
      const row = await this.store.retries.take(retryOf);
      if (!row) return undefined;
      return {
        job,
        runId: row.run_id,
        trigger: "retry",
        attempt: row.attempt,
        scheduledFor: row.scheduled_for,
        params: row.params ?? {},
        idempotencyKey: row.idempotency_key,
      };
    } catch (error) {
      // The row stays: a loop (this replica's or another's) takes it once the database answers.
      this.log.error(
        { job_name: job.name, retry_of: retryOf, err: error },
        "could not start a retry: %s",
        errorMessage(error),
      );
      return undefined;
    }
  }

  /** Wait `ms` for the retry of `retryOf`: true when the time came, false when ended (stop, or replaced). */
  private wait(retryOf: string, ms: number): Promise<boolean> {
    this.waits.get(retryOf)?.(false);
    return new Promise<boolean>((resolve) => {
      const end = (due: boolean) => {
        clearTimeout(timer);
        if (this.waits.get(retryOf) === end) this.waits.delete(retryOf);
        resolve(due);
      };
      const timer = setTimeout(() => end(true), ms);
      this.waits.set(retryOf, end);
    });
  }
}
