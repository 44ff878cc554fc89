import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Sql } from "postgres";
import { type Config, leaseSeconds, loadConfig } from "./config.js";
import { type OpenDatabase, openDatabase } from "./store/open.js";
import { ConfigError, errorMessage } from "./errors.js";
import { RunEventBus } from "./run/events.js";
import { Executor, type SlotFire } from "./run/executor.js";
import { parseCodeJob } from "./jobs/schema.js";
import { createLogger } from "./observe/log.js";
import { Loop, type LoopStep, type TickResult } from "./run/loop.js";
import { ON_TIME_TOLERANCE_MS, planFires } from "./schedule/misfire.js";
import { bounded } from "./util/deadline.js";
import { ClaimLead } from "./schedule/claim-lead.js";
import { housekeeping } from "./run/housekeeping.js";
import { MissedSlots } from "./schedule/missed-slots.js";
import { Registry } from "./jobs/registry.js";
import { logRuns } from "./observe/run-log.js";
import { latestInstant } from "./schedule/cron.js";
import { type DueJob, Scheduler } from "./schedule/scheduler.js";
import { type RunRow, Store } from "./store/store.js";
import type { Job, JobHandler, JobInput, RunOutcome, RunTrigger } from "./types.js";
import { VERSION } from "./version.js";

export interface RunnerOptions {
  /** Defaults to the configuration read from process.env. */
  config?: Config;
  log?: Logger;
  /** Use this pool instead of opening DATABASE_URL or the embedded server (tests, embedding). */
  sql?: Sql;
}

export type RunnerState = "new" | "starting" | "running" | "stopping" | "stopped";

export interface ScheduledJobView {
  name: string;
  schedule: string;
  timezone: string;
  nextRunAt: Date | null;
  timeoutMs: number;
  retries: number;
  overlap: string;
  catchUp: string;
  description: string;
  source: string;
  enabled: boolean;
  running: number;
}

/**
 * The in-process API and the wiring of the parts: registry -> scheduler -> executor -> store,
 * with the loop doing housekeeping. The CLI is a thin shell over it.
 */
export class Runner {
  readonly config: Config;
  readonly log: Logger;
  readonly registry = new Registry();
  readonly events = new RunEventBus();
  readonly scheduler: Scheduler;
  state: RunnerState = "new";
  /** When this replica last wrote its own heartbeat: what /readyz and job_heartbeat_age_seconds report. */
  lastHeartbeatAt: Date | undefined;
  database: OpenDatabase | undefined;
  store: Store | undefined;
  executor: Executor | undefined;
  loop: Loop | undefined;
  /** Slots whose claim failed or that passed while we were down, to settle by catch-up policy. */
  private readonly missed = new MissedSlots();
  private stopping: Promise<void> | undefined;
  private readonly ownSql: Sql | undefined;
  private readonly tickListeners: ((tick: TickResult) => void)[] = [];
  private readonly stopHooks: (() => Promise<void>)[] = [];
  private readonly startHooks: (() => Promise<void>)[] = [];
  private readonly extraSteps: LoopStep[] = [];
  private readonly claimLead = new ClaimLead();

  constructor(options: RunnerOptions = {}) {
    this.config = options.config ?? loadConfig(process.env);
    this.log =
      options.log ??
      createLogger({
        level: this.config.logLevel,
        format: this.config.logFormat,
        runnerId: this.config.runnerId,
      });
    this.ownSql = options.sql;
    this.scheduler = new Scheduler((due, now) => this.onDue(due, now));
    this.scheduler.leadFor = (count) => this.claimLead.for(count);
    this.events.onListenerError = (event, error) =>
      this.log.error({ err: error, event }, "run event listener failed");
    logRuns(this.events, this.log);
  }

  /** Register a job: `registerJob(name, cron, handler)` or `registerJob({ name, schedule, run, ... })`. */
  registerJob(job: JobInput | string, schedule?: string, handler?: JobHandler): Job {
    const input = typeof job === "string" ? { name: job, schedule, run: handler } : job;
    const parsed = parseCodeJob(input, "registerJob", "code");
    if (!parsed.job) throw new ConfigError(parsed.problems);
    this.addJob(parsed.job);
    return parsed.job;
  }

  /** Add an already validated job (built-ins, jobs files, the scheduler API). */
  addJob(job: Job): void {
    this.registry.add(job);
    if (this.state === "running") {
      this.scheduler.add(job);
      void this.store
        ?.registerJobs([job.name])
        .catch((error) => this.log.warn({ err: error }, "could not register job rows"));
    }
  }

  /** Deregister a job and abort its runs in this process. Returns false when unknown. */
  cancelJob(name: string): boolean {
    const job = this.registry.remove(name);
    if (!job) return false;
    this.scheduler.remove(name);
    this.missed.forget(name);
    this.executor?.cancel(name, "job cancelled");
    return true;
  }

  listScheduledJobs(): ScheduledJobView[] {
    return this.registry.list().map((job) => ({
      name: job.name,
      schedule: job.schedule,
      timezone: job.timezone,
      nextRunAt: this.scheduler.nextRunAt(job.name) ?? null,
      timeoutMs: job.timeoutMs,
      retries: job.retries.attempts,
      overlap: job.overlap,
      catchUp: job.catchUp,
      description: job.description,
      source: job.source,
      enabled: job.enabled,
      running: this.executor?.runningCount(job.name) ?? 0,
    }));
  }

  /** Open the database (and migrate) without scheduling anything: CLI commands use this. */
  async connect(): Promise<Store> {
    if (this.store) return this.store;
    if (this.ownSql) {
      this.store = new Store(this.ownSql, this.config.runnerId, leaseSeconds(this.config));
    } else {
      this.database = await openDatabase(this.config, this.log);
      this.store = new Store(this.database.sql, this.config.runnerId, leaseSeconds(this.config));
    }
    this.executor = new Executor(this.store, this.store.sql, this.log, this.events);
    return this.store;
  }

  /** Connect, catch up on missed slots, arm the scheduler and start the loop. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`runner cannot start: it is ${this.state}`);
    this.state = "starting";
    const store = await this.connect();
    for (const hook of this.startHooks)
      await hook().catch((error) =>
        this.log.warn({ err: error }, "start hook failed: %s", errorMessage(error)),
      );
    const jobs = this.registry.list();
    const known = await store.registerJobs(jobs.map((job) => job.name));
    this.loop = new Loop(
      this.config.intervalSeconds * 1000,
      [...housekeeping(this), ...this.extraSteps],
      this.log,
      (tick) => {
        for (const listener of this.tickListeners) listener(tick);
      },
    );
    const now = new Date();
    for (const job of jobs) this.scheduler.add(job, now);
    if (this.config.jobsEnabled) {
      for (const job of jobs)
        this.missed.rememberSinceLastRun(job, known.get(job.name)?.firstSeenAt ?? now, now);
      void this.settleMissed();
    }
    this.scheduler.start();
    this.state = "running";
    this.loop.start();
    for (const job of jobs) {
      this.log.info(
        {
          job_name: job.name,
          schedule: job.schedule,
          timezone: job.timezone,
          next_run_at: this.scheduler.nextRunAt(job.name) ?? null,
        },
        "job scheduled",
      );
    }
    this.log.info(
      {
        jobs: jobs.length,
        interval_seconds: this.config.intervalSeconds,
        jobs_enabled: this.config.jobsEnabled,
        version: VERSION,
      },
      "runner started",
    );
  }

  /** Called after every loop tick (metrics, pings). */
  onTick(listener: (tick: TickResult) => void): void {
    this.tickListeners.push(listener);
  }

  /** Add a step to every loop tick (before start): e.g. syncing jobs registered over HTTP. */
  addLoopStep(step: LoopStep): void {
    this.extraSteps.push(step);
  }

  /**
   * Called in start() once the database is open, before jobs are scheduled: jobs added here (those
   * stored in the database) are caught up after downtime like the others. A failure is logged.
   */
  onStart(hook: () => Promise<void>): void {
    this.startHooks.push(hook);
  }

  /** Called during stop, before the database closes (the HTTP listener, alert delivery). */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /**
   * Run a job now in this process (manual trigger). Resolves once its row exists, with the run id;
   * `done` settles with the final outcome.
   */
  async triggerJob(name: string, params: Record<string, string> = {}, trigger: RunTrigger = "manual") {
    const job = this.registry.require(name);
    await this.connect();
    return this.executor!.runNow(job, trigger, params);
  }

  /** The latest finished run of a job: status, duration, error, times. */
  async getLastExecutionResult(name: string): Promise<RunRow | undefined> {
    this.registry.require(name);
    return (await this.connect()).lastFinishedRun(name);
  }

  /**
   * --once: with names, run those jobs now (trigger `once`) whatever their schedule; without,
   * run every job whose latest slot has no run yet. Writes the heartbeat. Resolves with outcomes.
   */
  async runOnce(names: string[], params: Record<string, string> = {}): Promise<RunOutcome[]> {
    const store = await this.connect();
    await store.registerJobs(this.registry.names());
    await store.heartbeat({ hostname: hostname(), pid: process.pid, version: VERSION });
    let started: { done: Promise<RunOutcome> }[];
    if (names.length > 0) {
      const jobs = names.map((name) => this.registry.require(name));
      started = await Promise.all(jobs.map((job) => this.executor!.runNow(job, "once", params)));
    } else {
      const now = new Date();
      const fires: SlotFire[] = [];
      for (const job of this.registry.list()) {
        if (!job.enabled) continue;
        const latest = latestInstant(job.schedule, job.timezone, now);
        const late = latest ? now.getTime() - latest.getTime() : Number.POSITIVE_INFINITY;
        if (latest && late <= Math.max(job.misfireGraceSeconds, 60) * 1000) {
          fires.push({
            job,
            instant: latest,
            trigger: late <= ON_TIME_TOLERANCE_MS ? "schedule" : "catch-up",
          });
        }
      }
      started = await this.executor!.fireSlots(fires);
    }
    return Promise.all(started.map((run) => run.done));
  }

  /** Graceful stop: no new fires, wait for runs up to the grace, record the rest interrupted. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "stopping";
    this.scheduler.stop();
    await this.loop?.stop();
    try {
      await this.executor?.stop(this.config.shutdownGraceSeconds * 1000);
      if (wasRunning) await bounded(this.store?.markRunnerStopped(), 1000);
      for (const hook of this.stopHooks)
        await bounded(
          hook().catch((error) => this.log.warn({ err: error }, "stop hook failed")),
          3000,
        );
    } finally {
      await this.database
        ?.close()
        .catch((error) => this.log.warn({ err: error }, "closing the database failed"));
      this.state = "stopped";
      if (wasRunning) this.log.info("runner stopped");
    }
  }

  private onDue(due: DueJob[], now: number): void {
    if (!this.config.jobsEnabled || this.state !== "running") return;
    const fires: SlotFire[] = [];
    for (const { job, slots } of due) {
      for (const fire of planFires(slots, now, job.catchUp, job.misfireGraceSeconds))
        fires.push({ job, ...fire });
    }
    void this.fire(fires);
  }

  /** Claim and start; when the database does not answer, remember the slots as missed. */
  private async fire(fires: SlotFire[]): Promise<void> {
    if (fires.length === 0) return;
    try {
      const started = performance.now();
      await this.executor!.fireSlots(fires);
      this.claimLead.observe(performance.now() - started, fires.length);
      for (const fire of fires) this.missed.noteSettled(fire);
    } catch (error) {
      this.log.warn({ slots: fires.length }, "claiming slots failed, will catch up: %s", errorMessage(error));
      for (const fire of fires) this.missed.remember(fire.job, fire.instant);
    }
  }

  /** Run missed slots by each job's policy; slots another replica ran conflict and are skipped. */
  async settleMissed(): Promise<void> {
    if (this.missed.size === 0 || !this.config.jobsEnabled || this.state === "stopping") return;
    await this.fire(this.missed.drain(Date.now(), (name) => this.registry.has(name)));
  }
}
