import type { Logger } from "pino";
import type { Sql } from "postgres";
import { retryDelay } from "./backoff.js";
import { errorMessage } from "./errors.js";
import type { RunEventBus, RunInfo } from "./events.js";
import { invokeHandler, RunAbort } from "./invoke.js";
import type { FailureCount, Store } from "./store.js";
import type { Job, JobContext, RunOutcome, RunTrigger } from "./types.js";

export interface SlotFire {
  job: Job;
  instant: Date;
  trigger: RunTrigger;
}

interface ActiveRun {
  info: RunInfo;
  controller: AbortController;
  done: Promise<RunOutcome>;
}

export interface StartedRun {
  runId: string;
  /** The final outcome, after any retries. */
  done: Promise<RunOutcome>;
}

/**
 * Claims slots, runs handlers with their timeout, records outcomes, retries, and publishes run
 * events. Never throws from a run: every outcome, including a handler that throws a non-Error or
 * never settles, becomes a row.
 */
export class Executor {
  private readonly active = new Map<string, ActiveRun>();
  private readonly retryTimers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private stopping = false;
  /** Claimed slots whose instant has not come yet, by instant. */
  private readonly waiting = new Map<number, { runs: Map<string, () => void>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly store: Store,
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly events: RunEventBus,
  ) {}

  /**
   * Claim slots in one statement and start the ones this replica won. Throws when the database
   * cannot be reached, so the caller can remember the slots as missed.
   */
  async fireSlots(fires: SlotFire[]): Promise<StartedRun[]> {
    if (fires.length === 0 || this.stopping) return [];
    const claimed = await this.store.claimSlots(
      fires.map((f) => ({
        jobName: f.job.name,
        scheduledFor: f.instant,
        trigger: f.trigger,
        skipOverlap: f.job.overlap === "skip",
      })),
    );
    const byKey = new Map(fires.map((f) => [`${f.job.name}@${f.instant.getTime()}`, f]));
    const started: StartedRun[] = [];
    for (const row of claimed) {
      const fire = byKey.get(`${row.job_name}@${row.scheduled_for.getTime()}`);
      if (!fire) continue;
      if (row.status === "skipped") {
        this.events.emit("skipped", {
          runId: row.id,
          job: fire.job,
          scheduledFor: fire.instant,
          reason: "previous run still running",
        });
        continue;
      }
      started.push({ runId: row.id, done: this.startAt(fire, row.id) });
    }
    return started;
  }

  /**
   * Start a claimed slot's handler at its instant: slots are claimed a little ahead (the
   * scheduler's lead), so the claim's round trip is not part of the fire delay. Runs due at the
   * same instant share one timer and start in one pass. Until then a run counts as this
   * replica's (its lease is renewed), and a stop records it interrupted.
   */
  private startAt(fire: SlotFire, runId: string): Promise<RunOutcome> {
    const at = fire.instant.getTime();
    const wait = at - Date.now();
    if (wait <= 0) return this.execute(fire.job, runId, fire.trigger, 1, fire.instant, {});
    let group = this.waiting.get(at);
    if (!group) {
      const created = {
        runs: new Map<string, () => void>(),
        timer: setTimeout(() => this.release(at), wait),
      };
      this.waiting.set(at, created);
      group = created;
    }
    const runs = group.runs;
    return new Promise<void>((resolve) => runs.set(runId, resolve)).then(() =>
      this.stopping
        ? ({ status: "interrupted", error: "stopped before its instant", durationMs: 0 } as RunOutcome)
        : this.execute(fire.job, runId, fire.trigger, 1, fire.instant, {}),
    );
  }

  private release(at: number): void {
    const group = this.waiting.get(at);
    this.waiting.delete(at);
    for (const resolve of group?.runs.values() ?? []) resolve();
  }

  /** Start a run that claims no slot (manual, once, http): the row is written before the handler starts. */
  async runNow(job: Job, trigger: RunTrigger, params: Record<string, string> = {}): Promise<StartedRun> {
    const runId = await this.store.insertRun({
      jobName: job.name,
      trigger,
      attempt: 1,
      scheduledFor: null,
      params,
    });
    return { runId, done: this.execute(job, runId, trigger, 1, null, params) };
  }

  isRunning(jobName: string): boolean {
    for (const run of this.active.values()) if (run.info.job.name === jobName) return true;
    return false;
  }

  runningIds(): string[] {
    const waiting = [...this.waiting.values()].flatMap((group) => [...group.runs.keys()]);
    return [...this.active.keys(), ...waiting];
  }

  runningCount(jobName: string): number {
    let count = 0;
    for (const run of this.active.values()) if (run.info.job.name === jobName) count++;
    return count;
  }

  /** Abort this process's runs of a job (cancelJob); they are recorded interrupted. */
  cancel(jobName: string, reason: string): number {
    let count = 0;
    for (const run of this.active.values()) {
      if (run.info.job.name !== jobName) continue;
      run.controller.abort(new RunAbort("cancel", reason));
      count++;
    }
    return count;
  }

  private async execute(
    job: Job,
    runId: string,
    trigger: RunTrigger,
    attempt: number,
    scheduledFor: Date | null,
    params: Record<string, string>,
  ): Promise<RunOutcome> {
    const info: RunInfo = { runId, job, trigger, attempt, scheduledFor, startedAt: new Date() };
    const controller = new AbortController();
    const ctx = this.context(info, controller.signal, params);
    const done = (async () => {
      this.events.emit("started", info);
      const outcome = await invokeHandler(job.run, ctx, controller, job.timeoutMs);
      const failures = await this.record(runId, job, outcome);
      this.events.emit("finished", { ...info, outcome, failures });
      return outcome;
    })();
    this.active.set(runId, { info, controller, done });
    const outcome = await done.finally(() => this.active.delete(runId));
    return this.maybeRetry(job, outcome, attempt, scheduledFor, params);
  }

  private async maybeRetry(
    job: Job,
    outcome: RunOutcome,
    attempt: number,
    scheduledFor: Date | null,
    params: Record<string, string>,
  ): Promise<RunOutcome> {
    const retriable = outcome.status === "failed" || outcome.status === "timed_out";
    if (!retriable || attempt >= job.retries.attempts || this.stopping) return outcome;
    const delay = retryDelay(job.retries, attempt + 1);
    this.log.info({ job_name: job.name, attempt: attempt + 1, delay_ms: delay }, "retry scheduled");
    await new Promise<void>((resolve) => {
      const entry = { timer: setTimeout(() => done(), delay), resolve: () => done() };
      const done = () => {
        clearTimeout(entry.timer);
        this.retryTimers.delete(entry);
        resolve();
      };
      this.retryTimers.add(entry);
    });
    if (this.stopping) return outcome;
    try {
      const runId = await this.store.insertRun({
        jobName: job.name,
        trigger: "retry",
        attempt: attempt + 1,
        scheduledFor,
        params,
      });
      return await this.execute(job, runId, "retry", attempt + 1, scheduledFor, params);
    } catch (error) {
      this.log.error({ job_name: job.name, err: error }, "could not start a retry: %s", errorMessage(error));
      return outcome;
    }
  }

  /**
   * Write the outcome, retrying while the database is away: a finished run is never forgotten.
   * Gives up only when the process is stopping and the database is still unreachable.
   */
  private async record(runId: string, job: Job, outcome: RunOutcome): Promise<FailureCount | undefined> {
    let delay = 500;
    for (;;) {
      try {
        return await this.store.finishRun(runId, job.name, outcome);
      } catch (error) {
        if (this.stopping && delay > 4000) {
          this.log.error(
            { job_name: job.name, run_id: runId, status: outcome.status, err: error },
            "outcome could not be recorded",
          );
          return undefined;
        }
        this.log.warn(
          { job_name: job.name, run_id: runId, retry_in_ms: delay },
          "recording outcome failed: %s",
          errorMessage(error),
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private context(info: RunInfo, signal: AbortSignal, params: Record<string, string>): JobContext {
    const log = this.log.child({ job_name: info.job.name, run_id: info.runId, attempt: info.attempt });
    return {
      signal,
      log,
      sql: this.sql,
      params,
      runId: info.runId,
      jobName: info.job.name,
      scheduledFor: info.scheduledFor,
      attempt: info.attempt,
      trigger: info.trigger,
      progress: (done, total) => this.events.emit("progress", { ...info, done, total }),
    };
  }

  /**
   * Stop starting runs, wait up to `graceMs` for running ones, then abort their signals: they
   * are recorded `interrupted`. Resolves when every outcome is written (or given up).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const entry of [...this.retryTimers]) entry.resolve();
    const early = [...this.waiting.values()].flatMap((group) => [...group.runs.keys()]);
    for (const [at, group] of this.waiting) {
      clearTimeout(group.timer);
      this.release(at);
    }
    await this.store.markInterrupted(early, "stopped before its instant").catch(() => {});
    const pending = [...this.active.values()].map((run) => run.done);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled(pending), deadline]);
    clearTimeout(timer);
    for (const run of this.active.values()) {
      run.controller.abort(new RunAbort("shutdown", `interrupted by shutdown after ${graceMs} ms grace`));
    }
    await Promise.allSettled([...this.active.values()].map((run) => run.done));
  }
}
