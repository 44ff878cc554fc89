import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { Store } from "../store/store.js";
import type { Job, RunOutcome, RunTrigger } from "../types.js";
import { bounded } from "../util/deadline.js";
import { Attempts } from "./attempts.js";
import { ClaimWindows } from "./claim-windows.js";
import type { RunEventBus } from "./events.js";
import { RunAbort } from "./invoke.js";
import {
  type ExecutorLimits,
  MAX_CLAIMS_IN_FLIGHT,
  OverloadedError,
  recordPaused,
  replicaOrder,
  startOf,
} from "./admission.js";
import type { Retries, RunStart } from "./retries.js";
import { type DueRun, RELEASED, releaseClaimed, type SlotFire, StartGate } from "./start-gate.js";
import { WaitingSlots } from "./waiting-slots.js";

export type { SlotFire };

/** How long a stop waits to give back the slots claimed ahead (docs/exactly-once.md#shutdown-crashes-and-outages). */
const RELEASE_WAIT_MS = 3000;

export interface StartedRun {
  runId: string;
  /** The final outcome, after any retries. */
  done: Promise<RunOutcome>;
}

/**
 * Claims slots within this replica's room (MAX_CONCURRENT_RUNS), holds the ones claimed ahead in
 * the StartGate until their instant, and hands them to Attempts (attempts.ts), which runs them
 * and records their outcomes; runs without a slot (manual, once, backfill) go there directly.
 */
export class Executor {
  private readonly attempts: Attempts;
  private stopping = false;
  /** Claims on their way to the database (fireSlots): a stop waits for them, to release them. */
  private readonly claiming = new Set<Promise<StartedRun[]>>();
  private readonly gate = new StartGate((runs) => this.startDue(runs));
  readonly retries: Retries;
  private claimsInFlight = 0;
  private slotsClaiming = 0; // in claims on their way: room they may take once answered
  /** Slots this replica had no room for, claimed when room frees up within their tolerance. */
  private readonly waiting: WaitingSlots;
  /** The moments after the instants being fired, which outcome writes keep clear of. */
  private readonly claimWindows = new ClaimWindows();

  constructor(
    private readonly store: Store,
    sql: Sql,
    private readonly log: Logger,
    private readonly events: RunEventBus,
    private readonly limits: ExecutorLimits = { maxConcurrentRuns: Number.POSITIVE_INFINITY, runnerId: "" },
  ) {
    this.attempts = new Attempts({
      store,
      sql,
      log,
      events,
      stopping: () => this.stopping,
      roomFreed: () => this.waiting.roomFreed(),
      writesHeldUntil: () => this.claimWindows.endAt(Date.now()),
    });
    this.retries = this.attempts.retries;
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
    if (
      this.claimsInFlight >= MAX_CLAIMS_IN_FLIGHT ||
      this.attempts.outcomesPending >= this.limits.maxConcurrentRuns
    )
      throw new OverloadedError(fires.length);
    this.claimWindows.note(instantsOf(fires), Date.now());
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
    return (
      this.limits.maxConcurrentRuns - this.attempts.handlersRunning - this.gate.size - this.slotsClaiming
    );
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
    await this.writeCountedOutcomes(fires);
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
   * A claim's overlap `skip`, `concurrency` and group checks count the job's `running` rows. A run
   * that finished moments ago still reads `running` while its outcome waits for its batch
   * (outcome.ts, held to the end of a claim window): write those first, so it is not taken for a
   * run going on.
   */
  private async writeCountedOutcomes(fires: SlotFire[]): Promise<void> {
    // Nearly always nothing waits: no look at 10,000 fires' jobs on the firing path then.
    if (this.attempts.outcomesPending === 0) return;
    const counted = fires.some(
      ({ job }) =>
        (job.overlap === "skip" || job.concurrency !== undefined || this.limits.groupOf?.(job)) &&
        this.attempts.finishedUnwritten(job.name),
    );
    // Not written (the database is away): the claim fails the same way, or counts the run as today.
    if (counted) await this.attempts.flushOutcomes().catch(() => undefined);
  }

  /** Start every run due at an instant, in one pass (Attempts.launchAll); at a stop, none. */
  private startDue(due: DueRun[]): void {
    if (this.stopping) {
      for (const { resolve } of due) resolve(RELEASED);
      return;
    }
    this.attempts.launchAll(
      due.map(({ fire: { job, trigger, instant }, runId, resolve }) => ({
        start: { job, runId, trigger, attempt: 1, scheduledFor: instant, params: {} },
        settle: resolve,
      })),
    );
  }

  /** Start a run that claims no slot (manual, once, http): the row is written before the handler starts. */
  async runNow(job: Job, trigger: RunTrigger, params: Record<string, string> = {}): Promise<StartedRun> {
    const run = { jobName: job.name, trigger, attempt: 1, scheduledFor: null, params };
    return this.startClaimed({ ...run, job, runId: await this.store.insertRun(run) });
  }

  /** Start a run whose row is written already (a backfill's claim): timeout, outcome and retries as any run. */
  startClaimed(start: RunStart): StartedRun {
    return { runId: start.runId, done: this.attempts.launch(start) };
  }

  /** Write the outcomes still waiting now (Attempts.flushOutcomes); throws when some could not be. */
  flushOutcomes(): Promise<void> {
    return this.attempts.flushOutcomes();
  }

  isRunning(jobName: string): boolean {
    return this.runningCount(jobName) > 0;
  }

  runningIds(): string[] {
    return [...this.attempts.ids(), ...this.gate.ids()];
  }

  runningCount(jobName: string): number {
    return this.attempts.runningCount(jobName);
  }

  /** Abort this process's runs of a job (cancelJob); they are recorded interrupted. */
  cancel(jobName: string, reason: string): number {
    return this.attempts.abort(jobName, new RunAbort("cancel", reason));
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
    // 3 s: a claim of 10,000 slots on its way and then their release can take over 1 s on a busy
    // database, and a release cut short leaves the slots to the reaper (abandoned, not run).
    await bounded(
      Promise.allSettled([releaseClaimed(this.store, this.log, early), ...this.claiming]),
      RELEASE_WAIT_MS,
    );
    if (this.attempts.size > 0) {
      await bounded(this.attempts.idle(), graceMs);
      this.attempts.abort(
        undefined,
        new RunAbort("shutdown", `interrupted by shutdown after ${graceMs} ms grace`),
      );
      // Recording the interrupted outcomes needs the database; a hung one must not hold the exit.
      await bounded(this.attempts.idle(), 2000);
    }
    // Retries of attempts that failed during the grace are rows for another replica to run.
    await bounded(this.retries.recorded(), 1000);
  }
}

/** The distinct instants of these fires (a scheduler's batch has one; catch-up may have several). */
function instantsOf(fires: SlotFire[]): Set<number> {
  const instants = new Set<number>();
  for (const fire of fires) instants.add(fire.instant.getTime());
  return instants;
}
