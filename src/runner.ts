import type { JobView } from "./observe/job-view.js";
import { Daemon, type DaemonOptions } from "./run/daemon.js";
import type { RunnerState } from "./run/liveness.js";
import type { RunRow } from "./store/store.js";
import type { Job, JobHandler, JobInput, RunOutcome, RunTrigger } from "./types.js";

export type RunnerOptions = DaemonOptions;
export type { RunnerState };

/** A job as listScheduledJobs() shows it: the same fields as GET /api/v1/scheduler/jobs. */
export type ScheduledJobView = JobView & { running: number };

/**
 * The in-process API: register jobs, start, trigger, read results, stop. The same engine as the
 * `runner` command; its parts stay private (docs/architecture.md).
 */
export class Runner {
  readonly #daemon: Daemon;

  constructor(options: RunnerOptions = {}) {
    this.#daemon = new Daemon(options);
  }

  get state(): RunnerState {
    return this.#daemon.state;
  }

  /** Register a job: `registerJob(name, cron, handler)` or `registerJob({ name, schedule, run, ... })`. */
  registerJob(job: JobInput | string, schedule?: string, handler?: JobHandler): Job {
    return this.#daemon.registerJob(job, schedule, handler);
  }

  /** Deregister a job and abort its runs in this process. Returns false when unknown. */
  cancelJob(name: string): boolean {
    return this.#daemon.cancelJob(name);
  }

  listScheduledJobs(): ScheduledJobView[] {
    return this.#daemon.listScheduledJobs();
  }

  /** Connect (migrating the schema), catch up on missed slots, and start firing. */
  async start(): Promise<void> {
    await this.#daemon.start();
  }

  /**
   * Run a job now in this process. Resolves once its row exists, with the run id; `done` settles
   * with the final outcome.
   */
  triggerJob(
    name: string,
    params: Record<string, string> = {},
    trigger: Extract<RunTrigger, "manual" | "http"> = "manual",
  ): Promise<{ runId: string; done: Promise<RunOutcome> }> {
    return this.#daemon.triggerJob(name, params, trigger);
  }

  /** The latest finished run of a job: status, duration, error, times. */
  getLastExecutionResult(name: string): Promise<RunRow | undefined> {
    return this.#daemon.getLastExecutionResult(name);
  }

  /** Graceful stop: no new fires, wait for runs up to the grace, record the rest interrupted. Idempotent. */
  stop(): Promise<void> {
    return this.#daemon.stop();
  }
}
