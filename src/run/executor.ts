import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { Store } from "../store/store.js";
import type { Job, RunOutcome, RunTrigger } from "../types.js";
import { bounded } from "../util/deadline.js";
import type { RunEventBus, RunInfo } from "./events.js";
import { callHandler, type HandlerCall, RunAbort, RunController, settleCall } from "./invoke.js";
import {
  type ExecutorLimits,
  MAX_CLAIMS_IN_FLIGHT,
  OverloadedError,
  recordPaused,
  replicaOrder,
  startOf,
} from "./admission.js";
import { jobContext } from "./context.js";
import { OutcomeWriter } from "./outcome.js";
import { type PlannedRetry, Retries, type RunStart } from "./retries.js";
import { type DueRun, RELEASED, releaseClaimed, type SlotFire, StartGate } from "./start-gate.js";
import { WaitingSlots } from "./waiting-slots.js";

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

export interface StartedRun {
  runId: string;
  /** The final outcome, after any retries. */
  done: Promise<RunOutcome>;
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
  /** Claims on their way to the database (fireSlots): a stop waits for them, to release them. */
  private readonly claiming = new Set<Promise<StartedRun[]>>();
  private readonly gate = new StartGate((runs) => this.startDue(runs));
  readonly retries: Retries;
  private readonly outcomes: OutcomeWriter;
  /** Handlers called and not yet settled: what MAX_CONCURRENT_RUNS bounds. */
  private handlersRunning = 0;
  private claimsInFlight = 0;
  private slotsClaiming = 0; // in claims on their way: room they may take once answered
  /** Slots this replica had no room for, claimed when room frees up within their tolerance. */
  private readonly waiting: WaitingSlots;

  constructor(
    private readonly store: Store,
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly events: RunEventBus,
    private readonly limits: ExecutorLimits = { maxConcurrentRuns: Number.POSITIVE_INFINITY, runnerId: "" },
  ) {
    this.retries = new Retries(store, log, (start) => this.follow(this.begin(start)));
    this.outcomes = new OutcomeWriter(store, log, () => this.stopping);
    const room = () => this.room();
    this.waiting = new WaitingSlots({ store, events, log, room, claim: (f) => this.claim(f) });
  }

  /**
   * Claim slots and start the ones this replica won. Throws when the database cannot be reached,
   * or is not keeping up (OverloadedError), so the caller can settle the slots by catch-up policy.
   */
  async fireSlots(fires: SlotFire[]): Promise<StartedRun[]> {
    if (fires.length === 0 || this.stopping) return [];
    // The database is seconds behind: claims queue up, or outcomes wait to be written (each one a
    // finished run held in memory). Claiming more would only grow both.
    if (this.claimsInFlight >= MAX_CLAIMS_IN_FLIGHT || this.outcomes.pending >= this.limits.maxConcurrentRuns)
      throw new OverloadedError(fires.length);
    const claiming = this.admit(fires);
    this.claiming.add(claiming);
    try {
      return await claiming;
    } finally {
      this.claiming.delete(claiming);
    }
  }

  /** MAX_CONCURRENT_RUNS less the handlers running, the runs waiting for their instant and the slots being claimed. */
  private room(): number {
    return this.limits.maxConcurrentRuns - this.handlersRunning - this.gate.size - this.slotsClaiming;
  }

  /** Every slot when there is room; else what fits, in this replica's order, the rest waiting for room. */
  private async admit(fires: SlotFire[]): Promise<StartedRun[]> {
    if (this.room() >= fires.length) return this.claim(fires);
    const ordered = replicaOrder(fires, this.limits.runnerId);
    const now = ordered.splice(0, Math.max(0, this.room()));
    this.waiting.add(ordered);
    const started = now.length > 0 ? await this.claim(now) : [];
    // Slots another replica won leave room: the waiting ones take it.
    this.waiting.roomFreed();
    return started;
  }

  /** Claim slots in one statement and start (at their instant) the ones this replica won. */
  private async claim(fires: SlotFire[]): Promise<StartedRun[]> {
    this.claimsInFlight++;
    this.slotsClaiming += fires.length;
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
      this.slotsClaiming -= fires.length;
    }
    const byKey = new Map(fires.map((f) => [`${f.job.name}@${f.instant.getTime()}`, f]));
    const started: StartedRun[] = [];
    if (this.stopping) {
      // The stop began while the claim was on its way: give the claims back, as stop() does.
      await releaseClaimed(
        this.store,
        this.log,
        claimed.flatMap((row) => (row.status === "running" ? [row.id] : [])),
      );
      return started;
    }
    recordPaused(this.events, claimed, byKey);
    for (const row of claimed) {
      const fire = byKey.get(`${row.job_name}@${row.scheduled_for.getTime()}`);
      if (!fire || row.status === "paused") continue;
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
      // gives its claim back (releaseEarly).
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
      if (this.stopping) due.resolve(RELEASED);
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
    const run = { jobName: job.name, trigger, attempt: 1, scheduledFor: null, params };
    return this.startClaimed({ ...run, job, runId: await this.store.insertRun(run) });
  }

  /** Start a run whose row is written already (a backfill's claim): timeout, outcome and retries as any run. */
  startClaimed(start: RunStart): StartedRun {
    return { runId: start.runId, done: this.follow(this.begin(start)) };
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
  private begin(first: RunStart): BegunRun {
    const { job, runId, trigger, attempt, scheduledFor, params } = first;
    // A slot's key is the same everywhere; a run without a slot keeps its first attempt's id.
    const key = first.idempotencyKey ?? (scheduledFor ? `${job.name}@${scheduledFor.toISOString()}` : runId);
    const start = { ...first, idempotencyKey: key };
    const info: RunInfo = { runId, job, trigger, attempt, scheduledFor, startedAt: new Date() };
    const run: ActiveRun = { info, controller: new RunController(), done: undefined };
    this.active.set(runId, run);
    this.handlersRunning++;
    this.events.emit("started", info);
    const context = jobContext({
      info,
      controller: run.controller,
      params,
      idempotencyKey: key,
      sql: this.sql,
      log: this.log,
      events: this.events,
    });
    return { run, call: callHandler(job.run, context), start };
  }

  /** Settle a begun run: timeout, outcome row, finished event, retries. */
  private async follow({ run, call, start }: BegunRun): Promise<RunOutcome> {
    const { info, controller } = run;
    const { job, runId } = info;
    let retry: PlannedRetry | undefined;
    run.done = (async () => {
      const outcome = await settleCall(call, controller, job.timeoutMs);
      this.handlersRunning--;
      this.waiting.roomFreed();
      retry = await this.retries.plan(start, outcome); // before the outcome, so a crash keeps it
      const failures = await this.outcomes.record(runId, job, outcome);
      this.events.emit("finished", { ...info, outcome, failures });
      return outcome;
    })();
    const outcome = await run.done.finally(() => this.active.delete(runId));
    return this.retries.after(start, outcome, retry);
  }

  /**
   * Stop starting runs, wait up to `graceMs` for running ones, then abort their signals: they
   * are recorded `interrupted`. Resolves when every outcome is written (or given up).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.retries.stop();
    this.waiting.stop();
    const early = this.gate.ids();
    this.gate.releaseAll();
    await bounded(Promise.allSettled([releaseClaimed(this.store, this.log, early), ...this.claiming]), 1000);
    const pending = [...this.active.values()].flatMap((run) => run.done ?? []);
    if (pending.length > 0) {
      await bounded(Promise.allSettled(pending), graceMs);
      for (const run of this.active.values())
        run.controller.abort(new RunAbort("shutdown", `interrupted by shutdown after ${graceMs} ms grace`));
      // Recording the interrupted outcomes needs the database; a hung one must not hold the exit.
      await bounded(Promise.allSettled([...this.active.values()].flatMap((run) => run.done ?? [])), 2000);
    }
    // Retries of attempts that failed during the grace are rows for another replica to run.
    await bounded(this.retries.recorded(), 1000);
  }
}
