import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { Registry } from "../jobs/registry.js";
import type { ClaimLead } from "../schedule/claim-lead.js";
import { droppedSlots, ON_TIME_TOLERANCE_MS, type PlannedFire, planFires } from "../schedule/misfire.js";
import { MissedSlots } from "../schedule/missed-slots.js";
import type { DueJob } from "../schedule/scheduler.js";
import type { ReleasedSlot, Store } from "../store/store.js";
import type { Job, SlotFire } from "../types.js";
import { OverloadedError } from "./admission.js";
import type { RunEventBus } from "./events.js";
import type { Executor } from "./executor.js";

/**
 * What the dispatcher uses: the executor to claim with, the store to take slots other replicas
 * released, and whether firing is allowed now.
 */
export interface DispatchNeeds {
  executor: Executor;
  store: Store;
  registry: Registry;
  claimLead: ClaimLead;
  events: RunEventBus;
  log: Logger;
  /** False while starting, stopping, or when JOBS_ENABLED=false. */
  mayFire: () => boolean;
}

/**
 * From due slots to claims: plans each job's fires by its catch-up policy, claims them, and
 * remembers the slots whose claim the database did not answer, to settle them later by policy.
 */
export class Dispatcher {
  readonly #missed: MissedSlots;

  constructor(private readonly needs: DispatchNeeds) {
    this.#missed = new MissedSlots((job, instant, reason) => this.#fate(job, [instant], "dropped", reason));
  }

  /** The scheduler's callback: jobs came due (with every slot they came due for). */
  onDue(due: DueJob[], now: number): void {
    if (!this.needs.mayFire()) return;
    const fires: SlotFire[] = [];
    for (const { job, slots } of due) {
      const planned = planFires(slots, now, job.catchUp, job.misfireGraceSeconds);
      for (const fire of planned) fires.push({ job, ...fire });
      this.#late(job, slots, planned, now);
    }
    void this.fire(fires);
  }

  /**
   * Slots handed over past the on-time tolerance (the scheduler's timer fired late: the event loop
   * was blocked): those the policy runs are recorded missed (their run says caught-up), the others
   * dropped.
   */
  #late(job: Job, slots: Date[], planned: PlannedFire[], now: number): void {
    const late = slots.filter((slot) => now - slot.getTime() > ON_TIME_TOLERANCE_MS);
    if (late.length === 0) return;
    const cause = "event loop blocked";
    const run = new Set(planned.map((fire) => fire.instant.getTime()));
    this.#fate(
      job,
      late.filter((slot) => run.has(slot.getTime())),
      "missed",
      cause,
    );
    for (const drop of droppedSlots(late, planned, now, job.catchUp, job.misfireGraceSeconds, cause))
      this.#fate(job, [drop.instant], "dropped", drop.reason);
  }

  /** Tell the slot ledger (run/ledger.ts) the fate of slots that leave no job_runs row. */
  #fate(job: Job, instants: Date[], fate: "missed" | "dropped", reason: string): void {
    if (instants.length > 0) this.needs.events.emit("fate", { job, instants, fate, reason });
  }

  /** At start: the slots each job missed while no replica of ours was running. */
  rememberDowntime(job: Job, firstSeenAt: Date, now: Date): void {
    this.#missed.rememberSinceLastRun(job, firstSeenAt, now);
  }

  forget(name: string): void {
    this.#missed.forget(name);
  }

  /**
   * Run missed slots by each job's policy, with the slots a stopping replica released (taken
   * from the database by exactly one replica); slots another replica ran conflict and are skipped.
   */
  async settleMissed(): Promise<void> {
    if (!this.needs.mayFire()) return;
    const { registry, store, executor } = this.needs;
    // Outcomes written during an outage's end come first: a finished run whose row still read
    // `running` would make its job's catch-up claim a `skipped` overlap.
    await executor.flushOutcomes();
    const released = await store.takeReleased(registry.has);
    const fires = releasedFires(released, registry, Date.now(), (job, instant, reason) =>
      this.#fate(job, [instant], "dropped", `${reason}; released by a stopping replica`),
    );
    if (this.#missed.size > 0) fires.push(...this.#missed.drain(Date.now(), (name) => registry.has(name)));
    // A slot both released and remembered (this process released it, then started again) once.
    const once = new Map(fires.map((fire) => [`${fire.job.name}@${fire.instant.getTime()}`, fire]));
    await this.fire([...once.values()]);
  }

  /** Claim and start; when the database does not answer, remember the slots as missed. */
  private async fire(fires: SlotFire[]): Promise<void> {
    if (fires.length === 0) return;
    const { executor, claimLead, log } = this.needs;
    try {
      const started = performance.now();
      await executor.fireSlots(fires);
      claimLead.observe(performance.now() - started, fires.length);
    } catch (error) {
      // Overload is counted and logged once a minute (run-log.ts), not once a second.
      const overloaded = error instanceof OverloadedError;
      if (overloaded) this.needs.events.emit("missed", { reason: "overloaded", slots: error.slots });
      else log.warn({ slots: fires.length }, "claiming slots failed, will catch up: %s", errorMessage(error));
      const cause = overloaded ? "overloaded" : "database unreachable";
      for (const fire of fires) {
        if (fire.job.catchUp === "none")
          this.#fate(fire.job, [fire.instant], "dropped", `catchUp none; missed: ${cause}`);
        else this.#fate(fire.job, [fire.instant], "missed", cause);
        this.#missed.remember(fire.job, fire.instant);
      }
    }
  }
}

/**
 * Released slots, planned by their job's policy like any slot processed at this moment: one still
 * within the on-time tolerance runs as `schedule`, a later one by `catchUp`.
 */
function releasedFires(
  released: ReleasedSlot[],
  registry: Registry,
  now: number,
  dropped: (job: Job, instant: Date, reason: string) => void,
): SlotFire[] {
  const byJob = new Map<string, Date[]>();
  for (const slot of released)
    byJob.set(slot.job_name, [...(byJob.get(slot.job_name) ?? []), slot.scheduled_for]);
  const fires: SlotFire[] = [];
  for (const [name, slots] of byJob) {
    const job = registry.get(name);
    if (!job) continue;
    slots.sort((a, b) => a.getTime() - b.getTime());
    const planned = planFires(slots, now, job.catchUp, job.misfireGraceSeconds);
    for (const fire of planned) fires.push({ job, ...fire });
    for (const drop of droppedSlots(slots, planned, now, job.catchUp, job.misfireGraceSeconds))
      dropped(job, drop.instant, drop.reason);
  }
  return fires;
}
