import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { Store } from "../store/store.js";
import type { Job, RunOutcome, RunTrigger } from "../types.js";

export interface SlotFire {
  job: Job;
  instant: Date;
  trigger: RunTrigger;
}

/** A claimed slot whose instant has come: start it and resolve its outcome. */
export interface DueRun {
  runId: string;
  fire: SlotFire;
  resolve: (outcome: RunOutcome | Promise<RunOutcome>) => void;
}

interface InstantGroup {
  runs: Map<string, DueRun>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Claimed slots waiting for their instant: slots are claimed a little ahead (the scheduler's
 * lead), so the claim's round trip is not part of the fire delay. Runs due at the same instant
 * share one timer and are handed to `startDue` in one pass.
 */
export class StartGate {
  /** Claimed slots whose instant has not come yet, by instant. */
  private readonly waiting = new Map<number, InstantGroup>();

  constructor(private readonly startDue: (runs: DueRun[]) => void) {}

  /** Hold a claimed run until it is due (its instant, or later with jitter); resolves with its outcome. */
  hold(fire: SlotFire, runId: string, startAt = fire.instant): Promise<RunOutcome> {
    const at = startAt.getTime();
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
    return new Promise<RunOutcome>((resolve) => runs.set(runId, { runId, fire, resolve }));
  }

  /** How many claimed runs are waiting for their instant. */
  get size(): number {
    let count = 0;
    for (const group of this.waiting.values()) count += group.runs.size;
    return count;
  }

  /** The runs still held, by id. */
  ids(): string[] {
    return [...this.waiting.values()].flatMap((group) => [...group.runs.keys()]);
  }

  /** Release every group whose instant has passed (slots claimed late: a short lead, catch-up). */
  releaseDue(): void {
    for (const at of [...this.waiting.keys()]) if (at <= Date.now()) this.release(at);
  }

  /** Release every group now, due or not (stop: startDue records them interrupted). */
  releaseAll(): void {
    for (const at of [...this.waiting.keys()]) this.release(at);
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

  private release(at: number): void {
    const group = this.waiting.get(at);
    if (!group) return;
    this.waiting.delete(at);
    clearTimeout(group.timer);
    this.startDue([...group.runs.values()]);
  }
}

/** The outcome a caller sees for a claim given back at a stop (its row is deleted, not recorded). */
export const RELEASED: RunOutcome = {
  status: "interrupted",
  error: "released at shutdown before its instant",
  durationMs: 0,
};

/**
 * Give back the claims of slots whose instant has not come: their rows are deleted and the
 * slots listed as released, so another replica or the next start runs them. If the database
 * does not answer, the rows keep their lease and are reaped as abandoned.
 */
export async function releaseClaimed(
  store: Pick<Store, "releaseClaims">,
  log: Logger,
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  try {
    const released = await store.releaseClaims(ids);
    log.info(
      { slots: released.map((slot) => `${slot.job_name}@${slot.scheduled_for.toISOString()}`) },
      "released %d claimed slot(s) whose instant had not come: another replica or the next start runs them",
      released.length,
    );
  } catch (error) {
    log.warn({ runs: ids }, "could not release claimed slots at shutdown: %s", errorMessage(error));
  }
}
