import type { MissReason } from "../run/admission.js";

/**
 * Counts of slots missed, logged at most once a minute (a per-second job under overload would
 * otherwise log once a slot): the first miss at once, later ones summed into one line a minute.
 */
export class MissLog {
  private pending = new Map<MissReason, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: (counts: Record<string, number>) => void,
    private readonly everyMs = 60_000,
  ) {}

  add(reason: MissReason, slots: number): void {
    if (slots <= 0) return;
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + slots);
    if (!this.timer) this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    if (this.pending.size === 0) return;
    this.log(Object.fromEntries(this.pending));
    this.pending = new Map();
    this.timer = setTimeout(() => this.flush(), this.everyMs);
    this.timer.unref();
  }
}
