import type { Logger } from "pino";
import { bounded, withDeadline } from "../util/deadline.js";
import { errorMessage } from "../errors.js";

export interface LoopStep {
  name: string;
  run: () => Promise<void>;
}

export interface TickResult {
  ok: boolean;
  at: Date;
  durationMs: number;
  failures: { step: string; error: string }[];
}

/**
 * The --interval ticker: heartbeat, leases, reaper, triggers, missed slots. It never throws:
 * a failing step is logged and makes the tick unhealthy, and the next tick comes on time.
 * Ticks never overlap: the next is armed when the previous ends.
 */
export class Loop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<TickResult> | undefined;
  private stopped = true;
  /** performance.now() at start and at the last completed tick: a wall-clock step is not a stall. */
  private startedAt = performance.now();
  private lastTickAt: number | undefined;
  lastTick: TickResult | undefined;

  constructor(
    readonly intervalMs: number,
    private readonly steps: LoopStep[],
    private readonly log: Logger,
    private readonly onTick: (result: TickResult) => void = () => {},
  ) {}

  /** Starts ticking; the first tick runs at once. */
  start(): void {
    this.stopped = false;
    this.startedAt = performance.now();
    void this.tickAndRearm();
  }

  /** Run one tick now (also used by --once). Concurrent calls share the tick in progress. */
  tick(): Promise<TickResult> {
    this.current ??= this.runSteps().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** Stops ticking and waits for a tick in progress, at most `waitMs` (a hung database). */
  async stop(waitMs = 2000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!(await bounded(this.current, waitMs)))
      this.log.warn("loop tick still running at shutdown; not waiting for it");
  }

  /**
   * The loop is stalled when no tick has completed for two intervals (+5 s), measured on the
   * monotonic clock: NTP or a resumed VM stepping the wall clock forward is not a stall.
   */
  isStalled(now = performance.now()): boolean {
    const last = this.lastTickAt ?? this.startedAt;
    return now - last > 2 * this.intervalMs + 5000;
  }

  private async tickAndRearm(): Promise<void> {
    await this.tick();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tickAndRearm(), this.intervalMs);
  }

  /**
   * A step that has not finished within the interval (2 s to 30 s) fails this tick, and the tick
   * goes on: a query stuck on a connection the database dropped (seen for 15 s after a restart)
   * must not stop the heartbeat, and with it readiness, for every tick behind it.
   */
  private withinStepTimeout(step: LoopStep): Promise<void> {
    const limit = Math.min(30_000, Math.max(2000, this.intervalMs));
    return withDeadline(step.run(), limit);
  }

  private async runSteps(): Promise<TickResult> {
    const started = performance.now();
    const failures: TickResult["failures"] = [];
    for (const step of this.steps) {
      const stepStarted = performance.now();
      try {
        await this.withinStepTimeout(step);
      } catch (error) {
        failures.push({ step: step.name, error: errorMessage(error) });
      }
      const ms = performance.now() - stepStarted;
      if (ms > this.intervalMs)
        this.log.warn(
          { step: step.name, ms: Math.round(ms) },
          "loop step %s took %d ms",
          step.name,
          Math.round(ms),
        );
    }
    const result: TickResult = {
      ok: failures.length === 0,
      at: new Date(),
      durationMs: performance.now() - started,
      failures,
    };
    if (!result.ok)
      this.log.warn(
        { failures },
        "loop tick failed: %s",
        failures.map((f) => `${f.step}: ${f.error}`).join("; "),
      );
    this.lastTick = result;
    this.lastTickAt = performance.now();
    try {
      this.onTick(result);
    } catch (error) {
      this.log.error({ err: error }, "loop tick listener failed");
    }
    return result;
  }
}
