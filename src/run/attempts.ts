import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { FailureCount, Store } from "../store/store.js";
import type { RunOutcome } from "../types.js";
import { jobContext } from "./context.js";
import { type RunEventBus, type RunInfo, runInfo } from "./events.js";
import {
  callHandler,
  type HandlerCall,
  type RunAbort,
  RunController,
  settleCall,
  settledNow,
} from "./invoke.js";
import { type Finished, OutcomeWriter } from "./outcome.js";
import { type PlannedRetry, Retries, type RunStart } from "./retries.js";
import { type JobLinked, RunsByJob } from "./runs-by-job.js";

/**
 * One attempt in this process, from its handler's call until its outcome is written: what its
 * events say (RunInfo), what its retries need (RunStart), its controller, and whom to tell its
 * final outcome. One object with no promise or closure of its own: a per-second fan-out of
 * 10,000 jobs holds 10,000 of these while their outcomes are written, and each one that lives
 * that long is copied out of V8's young generation (bench/RESULTS.md, "lean attempts").
 */
interface ActiveRun extends RunInfo, RunStart, Finished, JobLinked {
  controller: RunController;
  /** The final outcome (after any retries), to whoever started the run. */
  settle: (outcome: RunOutcome | Promise<RunOutcome>) => void;
  /** Set when the handler settles; written by the OutcomeWriter. */
  outcome: RunOutcome | undefined;
  retry: PlannedRetry | undefined;
  /** The handler's call, from begin() until follow() takes it: its value is not kept while the outcome is written. */
  call: HandlerCall | undefined;
}

/** What the attempts use: the store and pool, the process's log and events, and whom to tell of freed room. */
export interface AttemptNeeds {
  store: Store;
  sql: Sql;
  log: Logger;
  events: RunEventBus;
  /** True once the executor stops: outcomes still write, with fewer tries (OutcomeWriter). */
  stopping: () => boolean;
  /** A handler settled: room for a waiting slot (MAX_CONCURRENT_RUNS). */
  roomFreed: () => void;
  /** Until when an outcome write waits: the end of the claim window it falls in (claim-windows.ts). */
  writesHeldUntil?: () => number | undefined;
}

/**
 * The attempts running in this process: calls each handler, settles it (timeout, abort), plans
 * its retry, has its outcome written in a batch (outcome.ts), publishes `started` and `finished`,
 * and tells its starter the final outcome. Never throws from a run: every outcome, including a
 * handler that throws a non-Error or never settles, becomes a row.
 */
export class Attempts {
  readonly retries: Retries;
  private readonly active = new Map<string, ActiveRun>();
  /** The same runs by job: cancelling a job, and counting its runs, look at its runs alone. */
  private readonly byJob = new RunsByJob<ActiveRun>();
  /** Waiting for the runs above to end, told when there are none. */
  private readonly idleWaiters = new Set<() => void>();
  private readonly outcomes: OutcomeWriter<ActiveRun>;
  /** Handlers called and not yet settled: what MAX_CONCURRENT_RUNS bounds. */
  private running = 0;

  constructor(private readonly needs: AttemptNeeds) {
    const { store, log, stopping } = needs;
    this.retries = new Retries(store, log, (start) => this.launch(start));
    this.outcomes = new OutcomeWriter<ActiveRun>(
      store,
      log,
      stopping,
      (run, failures) => this.written(run, failures),
      needs.writesHeldUntil,
    );
  }

  /** Handlers called and not yet settled. */
  get handlersRunning(): number {
    return this.running;
  }

  /** Finished runs whose outcome is not written yet. */
  get outcomesPending(): number {
    return this.outcomes.pending;
  }

  /** Whether a run of this job has finished and waits for its outcome to be written (its row still reads `running`). */
  finishedUnwritten(jobName: string): boolean {
    for (const run of this.byJob.of(jobName)) if (run.outcome !== undefined) return true;
    return false;
  }

  /** Begin and follow one attempt; resolves with its final outcome. */
  launch(start: RunStart): Promise<RunOutcome> {
    return new Promise((resolve) => this.follow(this.begin(start, resolve)));
  }

  /**
   * Start every run of an instant: all handlers are called first, then each run's timeout and
   * outcome are wired up, so the last of 10,000 handlers starts after 10,000 calls, not after
   * 10,000 set-ups too.
   */
  launchAll(starts: { start: RunStart; settle: ActiveRun["settle"] }[]): void {
    const begun = starts.map(({ start, settle }) => this.begin(start, settle));
    for (const run of begun) this.follow(run);
  }

  /** Register a run, publish its start and call its handler; follow() settles it. */
  private begin(start: RunStart, settle: ActiveRun["settle"]): ActiveRun {
    const { job, runId } = start;
    const run: ActiveRun = {
      runId,
      job,
      trigger: start.trigger,
      attempt: start.attempt,
      scheduledFor: start.scheduledFor,
      params: start.params,
      idempotencyKey: start.idempotencyKey,
      startedAt: new Date(),
      controller: new RunController(),
      settle,
      outcome: undefined,
      retry: undefined,
      call: undefined,
      prevOfJob: undefined,
      nextOfJob: undefined,
    };
    this.active.set(runId, run);
    this.byJob.add(run);
    this.running++;
    this.needs.events.emit("started", run);
    run.call = callHandler(job.run, jobContext(run, this.needs));
    return run;
  }

  /** Settle a begun run: at once when its handler returned no promise, else at its end or timeout. */
  private follow(run: ActiveRun): void {
    const call = run.call!;
    run.call = undefined;
    const now = settledNow(call, run.controller);
    if (now) this.settled(run, now);
    else
      void settleCall(call, run.controller, run.job.timeoutMs).then((outcome) => this.settled(run, outcome));
  }

  /** The handler is done: free its room, plan a retry (before the outcome, so a crash keeps it), write the outcome. */
  private settled(run: ActiveRun, outcome: RunOutcome): void {
    this.running--;
    this.needs.roomFreed();
    run.outcome = outcome;
    const retriable = outcome.status === "failed" || outcome.status === "timed_out";
    if (!retriable || run.attempt >= run.job.retries.attempts) {
      this.outcomes.record(run);
      return;
    }
    // plan() logs its own failures; whatever happens, the outcome is still written.
    void this.retries
      .plan(run, outcome)
      .catch(() => undefined)
      .then((retry) => {
        run.retry = retry;
        this.outcomes.record(run);
      });
  }

  /** The outcome is written (or given up): publish it, then the final outcome after any retries. */
  private written(run: ActiveRun, failures: FailureCount | undefined): void {
    const outcome = run.outcome!;
    this.active.delete(run.runId);
    this.byJob.delete(run);
    if (this.active.size === 0) for (const waiter of this.idleWaiters) waiter();
    this.needs.events.emit("finished", { ...runInfo(run), outcome, failures });
    run.settle(run.retry ? this.retries.after(run, outcome, run.retry) : outcome);
  }

  /** Resolves when no attempt is going on or waiting for its outcome to be written. */
  idle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = () => {
        this.idleWaiters.delete(waiter);
        resolve();
      };
      this.idleWaiters.add(waiter);
    });
  }

  /**
   * Write the outcomes of finished runs still waiting for the database, now. Their rows read
   * `running` until then, and a claim's overlap check would skip a slot for them. Throws when
   * some could not be written.
   */
  async flushOutcomes(): Promise<void> {
    const left = await this.outcomes.flush();
    if (left > 0) throw new Error(`${left} finished run(s) still waiting to record their outcome`);
  }

  ids(): string[] {
    return [...this.active.keys()];
  }

  /** Attempts going on or waiting for their outcome to be written. */
  get size(): number {
    return this.active.size;
  }

  runningCount(jobName: string): number {
    return this.byJob.count(jobName);
  }

  /** Abort the runs of a job (cancel), or every run (`jobName` undefined: shutdown); how many. */
  abort(jobName: string | undefined, reason: RunAbort): number {
    let count = 0;
    for (const run of jobName === undefined ? this.active.values() : this.byJob.of(jobName)) {
      run.controller.abort(reason);
      count++;
    }
    return count;
  }
}
