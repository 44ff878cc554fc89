/**
 * How long after an instant its slots are still being claimed and started: outcome writes that
 * would go out in this window wait for its end (outcome.ts). Sampled every 4 ms, both cores of
 * the 2-core machine were 90-100% busy from 10 to 50 ms after each instant of the replica-share
 * figure (three replicas, 300 per-second jobs holding 2 s): the outcomes of the handlers ending
 * at the instant took the database and the CPU from the claims of the slots waiting for room,
 * which started at p99 46-48 ms; with the writes held 30 ms, at p99 26-30 ms (bench/RESULTS.md).
 */
export const CLAIM_WINDOW_MS = 30;

/**
 * The instants this replica is firing slots at, and the window after each one. Writes outside
 * any window (a manual run, a backfill between instants, a `--once`) are not held, so a run
 * awaited one after another is not slowed by it.
 */
export class ClaimWindows {
  /** Instants (epoch ms) whose window has not ended, oldest first; a handful at most. */
  #instants: number[] = [];

  /** Slots are being fired at these instants (claimed ahead, or late: a past window is ignored). */
  note(instants: Iterable<number>, now: number): void {
    for (const instant of instants)
      if (instant + CLAIM_WINDOW_MS > now && !this.#instants.includes(instant)) this.#instants.push(instant);
    this.#instants.sort((a, b) => a - b);
  }

  /** The end of the window `now` is in (the latest, if two overlap), or undefined when it is in none. */
  endAt(now: number): number | undefined {
    while (this.#instants.length > 0 && this.#instants[0]! + CLAIM_WINDOW_MS <= now) this.#instants.shift();
    const within = this.#instants.findLast((instant) => instant <= now);
    return within === undefined ? undefined : within + CLAIM_WINDOW_MS;
  }
}
