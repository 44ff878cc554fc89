import { EventEmitter } from "node:events";
import type { Job, RunOutcome, RunTrigger } from "./types.js";

/**
 * Run events flow one way: the executor publishes, metrics, logs and alerts subscribe and never
 * call back into scheduling.
 */
export interface RunInfo {
  runId: string;
  job: Job;
  trigger: RunTrigger;
  attempt: number;
  scheduledFor: Date | null;
  startedAt: Date;
}

export interface RunEvents {
  started: [RunInfo];
  finished: [RunInfo & { outcome: RunOutcome; consecutiveFailures: number | undefined }];
  skipped: [{ runId: string | null; job: Job; scheduledFor: Date | null; reason: string }];
  abandoned: [{ runId: string; jobName: string; runnerId: string; consecutiveFailures: number }];
  progress: [RunInfo & { done: number; total: number | undefined }];
}

export class RunEventBus extends EventEmitter<RunEvents> {
  /** A listener that throws must not break the executor: the error is reported and dropped. */
  safeOn<K extends keyof RunEvents>(
    event: K,
    listener: (...args: RunEvents[K]) => void,
    onError: (error: unknown) => void,
  ): void {
    this.on(event, ((...args: RunEvents[K]) => {
      try {
        listener(...args);
      } catch (error) {
        onError(error);
      }
    }) as never);
  }
}
