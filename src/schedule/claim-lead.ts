/**
 * How far ahead of an instant the scheduler hands its jobs over, so that their claim is done when
 * the instant comes and the handlers start on time. It grows with the number of jobs due
 * together, from the measured cost of a claimed slot (about 25 µs here: 1 job claims in about
 * 1 ms, 10,000 in about 250 ms), with a threefold margin, between 50 ms and 2 s.
 */
export class ClaimLead {
  static readonly MIN_MS = 50;
  static readonly MAX_MS = 2000;
  private msPerSlot = 0.05;

  /** Learn from a claim of `slots` slots that took `ms`. */
  observe(ms: number, slots: number): void {
    this.msPerSlot = 0.7 * this.msPerSlot + 0.3 * (ms / Math.max(1, slots));
  }

  /** The lead for `count` jobs due at the same instant. */
  for(count: number): number {
    return Math.min(ClaimLead.MAX_MS, Math.max(ClaimLead.MIN_MS, 3 * (5 + count * this.msPerSlot)));
  }
}
