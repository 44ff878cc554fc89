import { instantsBetween, nextInstant } from "./cron.js";
import type { Job } from "../types.js";

/** Wake at least this often: setTimeout overflows past 24.8 days and machines sleep. */
export const MAX_TIMER_MS = 30_000;

export interface DueJob {
  job: Job;
  /** Instants that came due since the job was last handled, oldest first. */
  slots: Date[];
}

interface Entry {
  job: Job;
  at: number;
  removed: boolean;
}

/**
 * One timer for all jobs. Jobs sit in a min-heap by their next instant; the timer is armed for
 * the earliest (capped at 30 s). When it fires, every job due by now is handed over in one batch
 * with the slots it came due for, then rescheduled after now. Idle means one timer and no work.
 */
export class Scheduler {
  private heap: Entry[] = [];
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private running = false;

  /**
   * @param leadFor How long before an instant to hand over the `count` jobs due at it. The
   * executor claims the slots during this lead and starts the handlers at the instant itself, so
   * the claim's round trip is not part of the fire delay. The default, 0, hands jobs over at
   * their instant (the tests' fake clock).
   */
  constructor(
    private readonly onDue: (due: DueJob[], now: number) => void,
    private readonly leadFor: (count: number) => number = () => 0,
  ) {}

  /** Schedule a job from `from` (default now). Replaces any previous entry of the same name. */
  add(job: Job, from = new Date()): void {
    this.remove(job.name);
    if (!job.enabled) return;
    const next = nextInstant(job.schedule, job.timezone, from, job.dst);
    if (!next) return;
    const entry: Entry = { job, at: next.getTime(), removed: false };
    this.entries.set(job.name, entry);
    this.push(entry);
    this.arm();
  }

  remove(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    // Lazy deletion: the heap entry is dropped when it reaches the top.
    entry.removed = true;
  }

  nextRunAt(name: string): Date | undefined {
    const entry = this.entries.get(name);
    return entry ? new Date(entry.at) : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    if (!this.running) return;
    this.dropDeleted();
    const top = this.heap[0];
    if (!top) return;
    // The wake time, not the instant, decides: a job added for the same instant can lengthen
    // the lead (more slots to claim) and so move the wake earlier.
    const wakeAt = top.at - this.lead(top.at);
    if (this.timer && this.armedFor <= wakeAt) return;
    clearTimeout(this.timer);
    this.armedFor = wakeAt;
    const delay = Math.min(Math.max(wakeAt - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.wake(), delay);
  }

  private wake(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!this.running) return;
    const now = Date.now();
    const horizon = now + (this.heap[0] ? this.lead(this.heap[0].at) : 0);
    const due: DueJob[] = [];
    // Jobs that share a schedule and were due at the same instant share one computation: with
    // 10,000 jobs on "* * * * * *" that is one croner call instead of 20,000.
    const computed = new Map<string, { slots: Date[]; next: Date | null }>();
    for (;;) {
      this.dropDeleted();
      const top = this.heap[0];
      if (!top || top.at > horizon) break;
      this.pop();
      const { schedule, timezone, dst } = top.job;
      // An instant still ahead (within the lead) is its own only slot; one already passed takes
      // every slot up to now.
      const until = new Date(Math.max(now, top.at));
      const key = `${top.at}\u0000${timezone}\u0000${schedule}\u0000${dst.repeated}/${dst.skipped}`;
      let result = computed.get(key);
      if (!result) {
        result = {
          slots: instantsBetween(schedule, timezone, new Date(top.at - 1), until, undefined, dst),
          next: nextInstant(schedule, timezone, until, dst),
        };
        computed.set(key, result);
      }
      due.push({ job: top.job, slots: result.slots });
      const next = result.next;
      if (next) {
        top.at = next.getTime();
        this.push(top);
      } else {
        this.entries.delete(top.job.name);
      }
    }
    this.arm();
    if (due.length > 0) this.onDue(due, now);
  }

  /** The lead for the jobs due at `at`: counting them is one pass over the heap per fire. */
  private lead(at: number): number {
    let count = 0;
    for (const entry of this.heap) if (entry.at === at && !entry.removed) count++;
    return this.leadFor(count);
  }

  private dropDeleted(): void {
    while (this.heap.length > 0 && this.heap[0]!.removed) this.pop();
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
