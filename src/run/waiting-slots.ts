import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import { ON_TIME_TOLERANCE_MS } from "../schedule/misfire.js";
import type { Store } from "../store/store.js";
import type { SlotFire } from "../types.js";
import { AT_CAPACITY } from "./admission.js";
import type { RunEventBus } from "./events.js";

/** What the waiting slots use: where to record the ones nobody took, and how to claim with room. */
export interface WaitingSlotsNeeds {
  store: Pick<Store, "recordMissed">;
  events: RunEventBus;
  log: Logger;
  /** This replica's free room now (MAX_CONCURRENT_RUNS less what it runs, holds and is claiming). */
  room: () => number;
  /** Claim slots in one statement; the ones won start at their instant. */
  claim: (fires: SlotFire[]) => Promise<unknown>;
}

/**
 * Slots this replica had no room for when they came due. They wait until the instant's on-time
 * tolerance has passed: whenever room frees up here (a handler settled, or a claim lost slots to
 * another replica), the oldest are claimed, so a slot is not given up while any replica can still
 * run it on time. At the end of the tolerance, the ones no replica claimed are recorded skipped
 * ("missed: at capacity"), once across replicas by the slot's unique key.
 */
export class WaitingSlots {
  /** Oldest instant first; within an instant, this replica's order (replicaOrder). */
  #waiting: SlotFire[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #draining: Promise<void> | undefined;
  #again = false;

  constructor(private readonly needs: WaitingSlotsNeeds) {}

  get size(): number {
    return this.#waiting.length;
  }

  /** Slots left over at their claim; settled by the end of their tolerance. */
  add(fires: SlotFire[]): void {
    if (fires.length === 0) return;
    this.#waiting.push(...fires);
    // Stable: slots of one instant keep this replica's order.
    this.#waiting.sort((a, b) => a.instant.getTime() - b.instant.getTime());
    const latest = Math.max(...fires.map((fire) => fire.instant.getTime()));
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        this.#expire();
      },
      Math.max(0, latest + ON_TIME_TOLERANCE_MS - Date.now()),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  /** Room may have freed up: claim waiting slots with it (one drain at a time; a call during one repeats it). */
  roomFreed(): void {
    if (this.#waiting.length === 0) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#again) {
        this.#again = false;
        this.roomFreed();
      }
    });
  }

  /** At a stop: the replicas still running decide the waiting slots; this one no longer does. */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#waiting = [];
  }

  async #drain(): Promise<void> {
    // Handlers settling in the same turn free room together: claim once for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    const { room, claim, log } = this.needs;
    while (this.#waiting.length > 0 && room() > 0) {
      const now = Date.now();
      const batch = this.#waiting
        .splice(0, room())
        .filter((f) => f.instant.getTime() + ON_TIME_TOLERANCE_MS > now);
      if (batch.length === 0) continue;
      try {
        await claim(batch);
      } catch (error) {
        // The database did not answer: the slots are recorded missed at capacity if it comes
        // back in time, else left to the job's catch-up policy like any slot of an outage.
        log.warn(
          { slots: batch.length },
          "claiming slots that waited for room failed: %s",
          errorMessage(error),
        );
        return;
      }
    }
  }

  /** Record the slots whose tolerance has passed and that nobody claimed (a claimed one conflicts). */
  #expire(): void {
    const now = Date.now();
    const expired = this.#waiting.filter((f) => f.instant.getTime() + ON_TIME_TOLERANCE_MS <= now);
    if (expired.length === 0) return;
    this.#waiting = this.#waiting.filter((f) => f.instant.getTime() + ON_TIME_TOLERANCE_MS > now);
    const { store, events, log } = this.needs;
    store
      .recordMissed(
        expired.map((f) => ({ jobName: f.job.name, scheduledFor: f.instant })),
        AT_CAPACITY,
      )
      .then((slots) => events.emit("missed", { reason: "at capacity", slots }))
      .catch((error) => log.warn("could not record slots missed at capacity: %s", errorMessage(error)));
  }
}
