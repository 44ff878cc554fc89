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
 * another replica), the newest are claimed, so a slot is not given up while any replica can still
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

  /** Slots left over at their claim; settled by the end of their tolerance. */
  add(fires: SlotFire[]): void {
    if (fires.length === 0) return;
    // concat and a loop, not spreads: 100,000 slots as arguments would overflow the stack.
    this.#waiting = this.#waiting.concat(fires);
    // Newest first: a slot claimed when room frees starts closest to its instant, and the older
    // ones are the nearest to being given up anyway. Stable: one instant keeps this replica's order.
    this.#waiting.sort((a, b) => b.instant.getTime() - a.instant.getTime());
    let latest = 0;
    for (const fire of fires) latest = Math.max(latest, fire.instant.getTime());
    const until = latest + ON_TIME_TOLERANCE_MS;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        // By `until`, not Date.now(): a timer may fire a fraction of a millisecond early.
        this.#expire(until);
      },
      Math.max(0, until - Date.now()),
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
    for (let free = room(); free > 0; free = room()) {
      // Slots past their tolerance stay for their timer, which records them.
      const now = Date.now();
      const batch: SlotFire[] = [];
      const rest: SlotFire[] = [];
      for (const fire of this.#waiting)
        (batch.length < free && fire.instant.getTime() + ON_TIME_TOLERANCE_MS > now ? batch : rest).push(
          fire,
        );
      if (batch.length === 0) return;
      this.#waiting = rest;
      try {
        await claim(batch);
      } catch (error) {
        // The database did not answer: back to waiting, so their timer records them missed at
        // capacity if it is back by then (the claim may have landed: the unique key decides).
        this.add(batch);
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
  #expire(until: number): void {
    const over = (fire: SlotFire) => fire.instant.getTime() + ON_TIME_TOLERANCE_MS <= until;
    const expired = this.#waiting.filter(over);
    if (expired.length === 0) return;
    this.#waiting = this.#waiting.filter((fire) => !over(fire));
    const { store, events, log } = this.needs;
    store
      .recordMissed(
        expired.map((f) => ({ jobName: f.job.name, scheduledFor: f.instant })),
        AT_CAPACITY,
      )
      .then((jobs) => {
        events.emit("missed", { reason: "at capacity", slots: jobs.length });
        for (const jobName of jobs) events.emit("slots", { jobName, fate: "missed", count: 1 });
      })
      .catch((error) => log.warn("could not record slots missed at capacity: %s", errorMessage(error)));
  }
}
