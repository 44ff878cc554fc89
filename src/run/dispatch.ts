import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { Registry } from "../jobs/registry.js";
import type { ClaimLead } from "../schedule/claim-lead.js";
import { planFires } from "../schedule/misfire.js";
import { MissedSlots } from "../schedule/missed-slots.js";
import type { DueJob } from "../schedule/scheduler.js";
import type { Job, SlotFire } from "../types.js";
import { OverloadedError } from "./admission.js";
import type { RunEventBus } from "./events.js";
import type { Executor } from "./executor.js";

/** What the dispatcher uses: the executor to claim with, and whether firing is allowed now. */
export interface DispatchNeeds {
  executor: Executor;
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
  readonly #missed = new MissedSlots();

  constructor(private readonly needs: DispatchNeeds) {}

  /** The scheduler's callback: jobs came due (with every slot they came due for). */
  onDue(due: DueJob[], now: number): void {
    if (!this.needs.mayFire()) return;
    const fires: SlotFire[] = [];
    for (const { job, slots } of due) {
      for (const fire of planFires(slots, now, job.catchUp, job.misfireGraceSeconds))
        fires.push({ job, ...fire });
    }
    void this.fire(fires);
  }

  /** At start: the slots each job missed while no replica of ours was running. */
  rememberDowntime(job: Job, firstSeenAt: Date, now: Date): void {
    this.#missed.rememberSinceLastRun(job, firstSeenAt, now);
  }

  forget(name: string): void {
    this.#missed.forget(name);
  }

  /** Run missed slots by each job's policy; slots another replica ran conflict and are skipped. */
  async settleMissed(): Promise<void> {
    if (this.#missed.size === 0 || !this.needs.mayFire()) return;
    const { registry } = this.needs;
    await this.fire(this.#missed.drain(Date.now(), (name) => registry.has(name)));
  }

  /** Claim and start; when the database does not answer, remember the slots as missed. */
  private async fire(fires: SlotFire[]): Promise<void> {
    if (fires.length === 0) return;
    const { executor, claimLead, log } = this.needs;
    try {
      const started = performance.now();
      await executor.fireSlots(fires);
      claimLead.observe(performance.now() - started, fires.length);
      for (const fire of fires) this.#missed.noteSettled(fire);
    } catch (error) {
      // Overload is counted and logged once a minute (run-log.ts), not once a second.
      if (error instanceof OverloadedError)
        this.needs.events.emit("missed", { reason: "overloaded", slots: error.slots });
      else log.warn({ slots: fires.length }, "claiming slots failed, will catch up: %s", errorMessage(error));
      for (const fire of fires) this.#missed.remember(fire.job, fire.instant);
    }
  }
}
