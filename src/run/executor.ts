import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { Store } from "../store/store.js";
import type { Job, JobContext, RunOutcome, RunTrigger } from "../types.js";
import { bounded } from "../util/deadline.js";
import type { RunEventBus, RunInfo } from "./events.js";
import { callHandler, type HandlerCall, RunAbort, RunController, settleCall } from "./invoke.js";
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

  constructor(
    private readonly store: Store,
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly events: RunEventBus,
  ) {
    this.retries = new Retries(store, log, (start) => this.follow(this.begin(start)));
    this.outcomes = new OutcomeWriter(store, log, () => this.stopping);
  }

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
      // Until its instant a run counts as this replica's (its lease is renewed), and a stop
      // records it interrupted.
      started.push({ runId: row.id, done: this.gate.hold(fire, row.id) });
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
    this.events.emit("started", info);
    return { run, call: callHandler(job.run, this.context(info, run.controller, params)), start };
  }

  /** Settle a begun run: timeout, outcome row, finished event, retries. */
  private async follow({ run, call, start }: BegunRun): Promise<RunOutcome> {
    const { info, controller } = run;
    const { job, runId } = info;
    run.done = (async () => {
      const outcome = await settleCall(call, controller, job.timeoutMs);
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
