import type { Logger } from "pino";
import type { Sql } from "postgres";
import { retryDelay } from "../util/retry.js";
import { bounded } from "../util/deadline.js";
import { errorMessage } from "../errors.js";
import type { RunEventBus, RunInfo } from "./events.js";
import { callHandler, type HandlerCall, RunAbort, RunController, settleCall } from "./invoke.js";
import type { FailureCount, Store } from "../store/store.js";
import type { Job, JobContext, RunOutcome, RunTrigger } from "../types.js";

export interface SlotFire {
  job: Job;
  instant: Date;
  trigger: RunTrigger;
}

interface ActiveRun {
  info: RunInfo;
  controller: RunController;
  /** Undefined only between the call of its handler and the wiring of its outcome (see release). */
  done: Promise<RunOutcome> | undefined;
}

/** A run whose handler has been called; follow() wires its timeout and outcome. */
/** What starts one attempt of a run. */
interface RunStart {
  job: Job;
  runId: string;
  trigger: RunTrigger;
  attempt: number;
  scheduledFor: Date | null;
  params: Record<string, string>;
}

interface BegunRun {
  run: ActiveRun;
  call: HandlerCall;
  start: RunStart;
}

/** A claimed slot waiting for its instant. */
interface WaitingRun {
  fire: SlotFire;
  resolve: (outcome: RunOutcome | Promise<RunOutcome>) => void;
}

const STOPPED_EARLY: RunOutcome = {
  status: "interrupted",
  error: "stopped before its instant",
  durationMs: 0,
};

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
  private readonly waiting = new Map<
    number,
    { runs: Map<string, WaitingRun>; timer: NodeJS.Timeout | undefined }
  >();

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
    // Slots claimed late (the lead was too short, or catch-up) start now, in one pass.
    for (const at of [...this.waiting.keys()]) if (at <= Date.now()) this.release(at);
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
    let group = this.waiting.get(at);
    if (!group) {
      const wait = at - Date.now();
      group = {
        runs: new Map(),
        timer: wait > 0 ? setTimeout(() => this.releaseWhenDue(at), wait) : undefined,
      };
      this.waiting.set(at, group);
    }
    const runs = group.runs;
    return new Promise<RunOutcome>((resolve) => runs.set(runId, { fire, resolve }));
  }

  /**
   * Timers run on the monotonic clock and fire up to a millisecond before the wall clock reaches
   * the instant (measured here: 1 fire in 10). A handler started early would read a time before
   * its own slot (a midnight job dating its report the day before), so wait out the rest.
   */
  private releaseWhenDue(at: number): void {
    const group = this.waiting.get(at);
    if (!group) return;
    const early = at - Date.now();
    if (early > 1) group.timer = setTimeout(() => this.releaseWhenDue(at), early);
    else if (early > 0) setImmediate(() => this.releaseWhenDue(at));
    else this.release(at);
  }

  /**
   * Start every run due at an instant. All handlers are called first, then each run's timeout and
   * outcome are wired up: the last of 10,000 handlers starts after 10,000 calls, not after 10,000
   * set-ups too.
   */
  private release(at: number): void {
    const group = this.waiting.get(at);
    if (!group) return;
    this.waiting.delete(at);
    clearTimeout(group.timer);
    const begun: [BegunRun, WaitingRun][] = [];
    for (const [runId, waiting] of group.runs) {
      const { job, trigger, instant } = waiting.fire;
      if (this.stopping) waiting.resolve(STOPPED_EARLY);
      else
        begun.push([
          this.begin({ job, runId, trigger, attempt: 1, scheduledFor: instant, params: {} }),
          waiting,
        ]);
    }
    for (const [run, waiting] of begun) waiting.resolve(this.follow(run));
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
    return {
      runId,
      done: this.follow(this.begin({ job, runId, trigger, attempt: 1, scheduledFor: null, params })),
    };
  }

  isRunning(jobName: string): boolean {
    return this.runningCount(jobName) > 0;
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

  /** Register a run, publish its start and call its handler. */
  private begin(start: RunStart): BegunRun {
    const { job, runId, trigger, attempt, scheduledFor, params } = start;
    const info: RunInfo = { runId, job, trigger, attempt, scheduledFor, startedAt: new Date() };
    const run: ActiveRun = { info, controller: new RunController(), done: undefined };
    this.active.set(runId, run);
    this.events.emit("started", info);
    return { run, call: callHandler(job.run, this.context(info, run.controller, params)), start };
  }

  /** Settle a begun run: timeout, outcome row, finished event, retries. */
  private async follow({ run, call, start }: BegunRun): Promise<RunOutcome> {
    const { info, controller } = run;
    const { job, runId } = info;
    run.done = (async () => {
      const outcome = await settleCall(call, controller, job.timeoutMs);
      const failures = await this.record(runId, job, outcome);
      this.events.emit("finished", { ...info, outcome, failures });
      return outcome;
    })();
    const outcome = await run.done.finally(() => this.active.delete(runId));
    return this.maybeRetry(start, outcome);
  }

  private async maybeRetry(start: RunStart, outcome: RunOutcome): Promise<RunOutcome> {
    const { job, attempt, scheduledFor, params } = start;
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
      return await this.follow(this.begin({ ...start, runId, trigger: "retry", attempt: attempt + 1 }));
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

  /** `signal` and `log` are made when first read: most handlers use neither (see RunController). */
  private context(info: RunInfo, controller: RunController, params: Record<string, string>): JobContext {
    const parent = this.log;
    let log: Logger | undefined;
    return {
      get signal() {
        return controller.signal;
      },
      get log() {
        log ??= parent.child({ job_name: info.job.name, run_id: info.runId, attempt: info.attempt });
        return log;
      },
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
    for (const at of [...this.waiting.keys()]) this.release(at);
    await bounded(this.store.markInterrupted(early, "stopped before its instant"), 1000);
    const pending = [...this.active.values()].flatMap((run) => run.done ?? []);
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
    // Recording the interrupted outcomes needs the database; a hung one must not hold the exit.
    await bounded(Promise.allSettled([...this.active.values()].flatMap((run) => run.done ?? [])), 2000);
  }
}
