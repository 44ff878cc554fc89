import { EventEmitter } from "node:events";
import type { OutputStream } from "../store/output.js";
import type { SlotFate } from "../schedule/slot-fates.js";
import type { FailureCount, LedgerFate } from "../store/store.js";
import type { Job, RunOutcome, RunTrigger } from "../types.js";

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

/** Just the RunInfo fields of a run (its in-process object carries more), for an event of its own. */
export function runInfo({ runId, job, trigger, attempt, scheduledFor, startedAt }: RunInfo): RunInfo {
  return { runId, job, trigger, attempt, scheduledFor, startedAt };
}

/** Why a slot was not run by this replica in time. */
export type MissReason = "overloaded" | "at capacity";

export interface RunEvents {
  started: [RunInfo];
  /** `failures` is undefined when the outcome could not be written (database away at shutdown). */
  finished: [RunInfo & { outcome: RunOutcome; failures: FailureCount | undefined }];
  skipped: [{ runId: string | null; job: Job; scheduledFor: Date | null; reason: string }];
  /** Slots nobody ran: the database could not keep up (overloaded), or no replica had room. */
  missed: [{ reason: MissReason; slots: number }];
  abandoned: [{ runId: string; jobName: string; runnerId: string; consecutiveFailures: number }];
  progress: [RunInfo & { done: number; total: number | undefined }];
  /** A line of a run's output: ctx.log, a command's stdout and stderr (src/run/output.ts keeps it). */
  output: [{ runId: string; stream: OutputStream; line: string }];
  /**
   * Slots whose fate this replica decided without a job_runs row (paused, missed, dropped), for
   * the slot ledger (src/run/ledger.ts) to record.
   */
  fate: [{ job: Job; instants: Date[]; fate: LedgerFate; reason: string }];
  /** Slots this replica recorded with a fate (job_runs or the ledger): job_slots_total. */
  slots: [{ jobName: string; fate: SlotFate; count: number }];
  /** A job paused itself after `failures` consecutive failures (pauseAfterFailures). */
  paused: [{ jobName: string; reason: string; failures: number }];
}

/**
 * A listener that throws must not break the executor (a run whose `started` listener threw would
 * never be recorded): each listener is called on its own, and its error goes to `onListenerError`.
 */
export class RunEventBus extends EventEmitter<RunEvents> {
  onListenerError: (event: string, error: unknown) => void = () => {};

  override emit<K extends keyof RunEvents>(event: K, ...args: RunEvents[K]): boolean {
    const listeners = this.listeners(event) as ((...a: RunEvents[K]) => void)[];
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(String(event), error);
      }
    }
    return listeners.length > 0;
  }
}
