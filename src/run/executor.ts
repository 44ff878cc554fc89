import type { Logger } from "pino";
import type { Sql } from "postgres";
import { errorMessage } from "../errors.js";
import { ON_TIME_TOLERANCE_MS } from "../schedule/misfire.js";
import type { Store } from "../store/store.js";
import type { Job, JobContext, RunOutcome, RunTrigger } from "../types.js";
import { bounded } from "../util/deadline.js";
import type { RunEventBus, RunInfo } from "./events.js";
import { callHandler, type HandlerCall, RunAbort, RunController, settleCall } from "./invoke.js";
import { AT_CAPACITY, MAX_CLAIMS_IN_FLIGHT, OverloadedError, replicaOrder, startOf } from "./admission.js";
import { OutcomeWriter } from "./outcome.js";
import { Retries, type RunStart } from "./retries.js";
import { type DueRun, type SlotFire, StartGate } from "./start-gate.js";

export type { SlotFire };

interface ActiveRun {
  info: RunInfo;
  controller: RunController;
  /** Undefined only between the call of its handler and the wiring of its outcome (see startDue). */
  done: Promise<RunOutcome> | undefined;
}

/** A run whose handler has been called; follow() wires its timeout and outcome. */
interface BegunRun {
  run: ActiveRun;
  call: HandlerCall;
  start: RunStart;
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

/** What bounds this replica's work (MAX_CONCURRENT_RUNS) and orders its claims. */
export interface ExecutorLimits {
  maxConcurrentRuns: number;
  runnerId: string;
  /** A job's mutual-exclusion group with its limit and members, when it has one. */
  groupOf?: (job: Job) => { name: string; max: number; jobs: string[] } | undefined;
}

/**
 * Claims slots, runs handlers with their timeout, records outcomes (outcome.ts), retries
 * (retries.ts), and publishes run events. Slots claimed ahead wait in the StartGate until their
 * instant. Never throws from a run: every outcome, including a handler that throws a non-Error
 * or never settles, becomes a row.
 */
export class Executor {
  private readonly active = new Map<string, ActiveRun>();
  private stopping = false;
  private readonly gate = new StartGate((runs) => this.startDue(runs));
  private readonly retries: Retries;
  private readonly outcomes: OutcomeWriter;

  /** Handlers called and not yet settled: what MAX_CONCURRENT_RUNS bounds. */
  private handlersRunning = 0;
  private claimsInFlight = 0;
  /** Slots left to other replicas, checked once their instant has passed (see settleLeftovers). */
  private readonly leftoverTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly events: RunEventBus,
    private readonly limits: ExecutorLimits = { maxConcurrentRuns: Number.POSITIVE_INFINITY, runnerId: "" },
  ) {
    this.retries = new Retries(store, log, (start) => this.follow(this.begin(start)));
    this.outcomes = new OutcomeWriter(store, log, () => this.stopping);
  }

  /**
   * Claim slots and start the ones this replica won. Throws when the database cannot be reached,
   * or is not keeping up (OverloadedError), so the caller can settle the slots by catch-up policy.
   */
  async fireSlots(fires: SlotFire[]): Promise<StartedRun[]> {
    if (fires.length === 0 || this.stopping) return [];
    if (this.claimsInFlight >= MAX_CLAIMS_IN_FLIGHT) throw new OverloadedError(fires.length);
    const room = () => this.limits.maxConcurrentRuns - this.handlersRunning - this.gate.size;
    if (room() >= fires.length) return this.claim(fires);
    // Room for some only: try them in this replica's order, leave the rest to other replicas.
    const candidates = replicaOrder(fires, this.limits.runnerId);
    const started: StartedRun[] = [];
    for (let pass = 0; pass < 3 && candidates.length > 0 && room() > 0; pass++)
      started.push(...(await this.claim(candidates.splice(0, room()))));
    if (candidates.length > 0) this.settleLeftovers(candidates);
    return started;
  }

  /**
   * Slots this replica had no room for: once their instant is past the on-time tolerance, any that
   * no replica claimed are recorded skipped ("missed: at capacity"), once across replicas.
   */
  private settleLeftovers(fires: SlotFire[]): void {
    const latest = Math.max(...fires.map((fire) => fire.instant.getTime()));
    const timer = setTimeout(
      () => {
        this.leftoverTimers.delete(timer);
        this.store
          .recordMissed(
            fires.map((f) => ({ jobName: f.job.name, scheduledFor: f.instant })),
            AT_CAPACITY,
          )
          .then((slots) => this.events.emit("missed", { reason: "at capacity", slots }))
          .catch((error) =>
            this.log.warn("could not record slots missed at capacity: %s", errorMessage(error)),
          );
      },
      Math.max(0, latest + ON_TIME_TOLERANCE_MS - Date.now()),
    );
    timer.unref();
    this.leftoverTimers.add(timer);
  }

  /** Claim slots in one statement and start (at their instant) the ones this replica won. */
  private async claim(fires: SlotFire[]): Promise<StartedRun[]> {
    this.claimsInFlight++;
    let claimed: Awaited<ReturnType<Store["claimSlots"]>>;
    try {
      claimed = await this.store.claimSlots(
        fires.map((f) => ({
          jobName: f.job.name,
          scheduledFor: f.instant,
          startAt: startOf(f),
          trigger: f.trigger,
          skipOverlap: f.job.overlap === "skip",
          maxRunning: f.job.concurrency,
          group: this.limits.groupOf?.(f.job),
        })),
      );
    } finally {
      this.claimsInFlight--;
    }
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
          reason: row.error ?? "previous run still running",
        });
        continue;
      }
      // Until its instant a run counts as this replica's (its lease is renewed), and a stop
      // records it interrupted.
      started.push({ runId: row.id, done: this.gate.hold(fire, row.id, startOf(fire)) });
    }
    // Slots claimed late (the lead was too short, or catch-up) start now, in one pass.
    this.gate.releaseDue();
    return started;
  }

  /**
   * Start every run due at an instant. All handlers are called first, then each run's timeout and
   * outcome are wired up: the last of 10,000 handlers starts after 10,000 calls, not after 10,000
   * set-ups too.
   */
  private startDue(runs: DueRun[]): void {
    const begun: [BegunRun, DueRun][] = [];
    for (const due of runs) {
      const { job, trigger, instant } = due.fire;
      if (this.stopping) due.resolve(STOPPED_EARLY);
      else
        begun.push([
          this.begin({ job, runId: due.runId, trigger, attempt: 1, scheduledFor: instant, params: {} }),
          due,
        ]);
    }
    for (const [run, due] of begun) due.resolve(this.follow(run));
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
    return [...this.active.keys(), ...this.gate.ids()];
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
    this.handlersRunning++;
    this.events.emit("started", info);
    return { run, call: callHandler(job.run, this.context(info, run.controller, params)), start };
  }

  /** Settle a begun run: timeout, outcome row, finished event, retries. */
  private async follow({ run, call, start }: BegunRun): Promise<RunOutcome> {
    const { info, controller } = run;
    const { job, runId } = info;
    run.done = (async () => {
      const outcome = await settleCall(call, controller, job.timeoutMs);
      this.handlersRunning--;
      const failures = await this.outcomes.record(runId, job, outcome);
      this.events.emit("finished", { ...info, outcome, failures });
      return outcome;
    })();
    const outcome = await run.done.finally(() => this.active.delete(runId));
    return this.retries.after(start, outcome);
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
    this.retries.stop();
    // Left to other replicas: a replica still running records them; this one no longer decides.
    for (const timer of this.leftoverTimers) clearTimeout(timer);
    this.leftoverTimers.clear();
    const early = this.gate.ids();
    this.gate.releaseAll();
    await bounded(this.store.markInterrupted(early, "stopped before its instant"), 1000);
    const pending = [...this.active.values()].flatMap((run) => run.done ?? []);
    if (pending.length === 0) return;
    await bounded(Promise.allSettled(pending), graceMs);
    for (const run of this.active.values()) {
      run.controller.abort(new RunAbort("shutdown", `interrupted by shutdown after ${graceMs} ms grace`));
    }
    // Recording the interrupted outcomes needs the database; a hung one must not hold the exit.
    await bounded(Promise.allSettled([...this.active.values()].flatMap((run) => run.done ?? [])), 2000);
  }
}
