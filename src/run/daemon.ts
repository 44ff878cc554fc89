import type { Logger } from "pino";
import type { Sql } from "postgres";
import { type Config, leaseSeconds, loadConfig } from "../config.js";
import { ConfigError, errorMessage } from "../errors.js";
import { Registry } from "../jobs/registry.js";
import { parseCodeJob } from "../jobs/schema.js";
import { type JobView, jobView } from "../observe/job-view.js";
import { createLogger } from "../observe/log.js";
import { logRuns } from "../observe/run-log.js";
import { ClaimLead } from "../schedule/claim-lead.js";
import { Scheduler } from "../schedule/scheduler.js";
import { type OpenDatabase, openDatabase } from "../store/open.js";
import { type RunRow, Store } from "../store/store.js";
import type { Job, JobHandler, JobInput, RunOutcome, RunTrigger } from "../types.js";
import { bounded } from "../util/deadline.js";
import { registerConfigSecrets } from "../util/secrets.js";
import { VERSION } from "../version.js";
import { Dispatcher } from "./dispatch.js";
import { RunEventBus } from "./events.js";
import { Executor, type StartedRun } from "./executor.js";
import { housekeeping } from "./housekeeping.js";
import { Liveness } from "./liveness.js";
import { Loop, type LoopStep, type TickResult } from "./loop.js";
import { checkGroups, groupOf } from "./groups.js";
import { runOnce } from "./once.js";
import { keepRecords } from "./keepers.js";
import { publishJobs } from "./publish.js";

export interface DaemonOptions {
  /** Defaults to the configuration read from process.env. */
  config?: Config;
  log?: Logger;
  /** Use this pool instead of opening DATABASE_URL or the embedded server (tests, embedding). */
  sql?: Sql;
}

/** The parts that exist once the database is open. */
export interface Connected {
  store: Store;
  executor: Executor;
  dispatcher: Dispatcher;
}

/**
 * The lifecycle and the wiring of the parts: registry -> scheduler -> dispatcher -> executor ->
 * store, with the loop doing housekeeping. The public `Runner` and the CLI are shells over it;
 * the sidecar builds each route's requirements from its parts (docs/architecture.md).
 */
export class Daemon {
  readonly config: Config;
  readonly log: Logger;
  readonly registry = new Registry();
  readonly events = new RunEventBus();
  readonly liveness = new Liveness();
  readonly scheduler: Scheduler;
  #connected: Connected | undefined;
  #database: OpenDatabase | undefined;
  #stopping: Promise<void> | undefined;
  readonly #ownSql: Sql | undefined;
  readonly #claimLead = new ClaimLead();
  readonly #tickListeners: ((tick: TickResult) => void)[] = [];
  readonly #stopHooks: (() => Promise<void>)[] = [];
  readonly #startHooks: (() => Promise<void>)[] = [];
  readonly #extraSteps: LoopStep[] = [];

  constructor(options: DaemonOptions = {}) {
    this.config = options.config ?? loadConfig(process.env);
    registerConfigSecrets(this.config);
    const { logLevel: level, logFormat: format, runnerId } = this.config;
    this.log = options.log ?? createLogger({ level, format, runnerId });
    this.#ownSql = options.sql;
    this.scheduler = new Scheduler(
      (due, now) => this.#connected?.dispatcher.onDue(due, now),
      (count) => this.#claimLead.for(count),
    );
    this.events.onListenerError = (event, error) =>
      this.log.error({ err: error, event }, "run event listener failed");
    logRuns(this.events, this.log);
  }

  get state() {
    return this.liveness.state;
  }

  /** The store, once connected (undefined before: HTTP handlers answer 503 then). */
  get store(): Store | undefined {
    return this.#connected?.store;
  }

  get executor(): Executor | undefined {
    return this.#connected?.executor;
  }

  get loop(): Loop | undefined {
    return this.liveness.loop;
  }

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
    if (this.state !== "running") return;
    this.scheduler.add(job);
    void this.store
      ?.registerJobs([job.name])
      .catch((error) => this.log.warn({ err: error }, "could not register job rows"));
  }

  /** Deregister a job and abort its runs in this process. Returns false when unknown. */
  cancelJob(name: string): boolean {
    if (!this.registry.remove(name)) return false;
    this.scheduler.remove(name);
    this.#connected?.dispatcher.forget(name);
    this.#connected?.executor.cancel(name, "job cancelled");
    return true;
  }

  listScheduledJobs(): (JobView & { running: number })[] {
    return this.registry.list().map((job) => ({
      ...jobView(job, this.scheduler.nextRunAt(job.name)),
      running: this.executor?.runningCount(job.name) ?? 0,
    }));
  }

  /** Open the database (and migrate) without scheduling anything: CLI commands use this. */
  async connect(): Promise<Connected> {
    if (this.#connected) return this.#connected;
    let sql = this.#ownSql;
    if (!sql) {
      this.#database = await openDatabase(this.config, this.log);
      sql = this.#database.sql;
    }
    const store = new Store(sql, this.config.runnerId, leaseSeconds(this.config));
    const executor = new Executor(store, sql, this.log, this.events, {
      maxConcurrentRuns: this.config.maxConcurrentRuns,
      runnerId: this.config.runnerId,
      groupOf: (job) => groupOf(job, this.registry, this.config.groupLimits),
    });
    const dispatcher = new Dispatcher({
      executor,
      store,
      registry: this.registry,
      claimLead: this.#claimLead,
      events: this.events,
      log: this.log,
      mayFire: () => this.config.jobsEnabled && this.state === "running",
    });
    this.#stopHooks.push(...keepRecords(this.events, store, this.config, this.log));
    this.#connected = { store, executor, dispatcher };
    return this.#connected;
  }

  /** Connect, catch up on missed slots, arm the scheduler and start the loop. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`runner cannot start: it is ${this.state}`);
    this.liveness.moveTo("starting");
    const { store, executor, dispatcher } = await this.connect();
    for (const hook of this.#startHooks)
      await hook().catch((error) =>
        this.log.warn({ err: error }, "start hook failed: %s", errorMessage(error)),
      );
    const jobs = this.registry.list();
    checkGroups(jobs, this.config.groupLimits);
    const known = await store.registerJobs(jobs.map((job) => job.name));
    const steps = housekeeping({
      store,
      executor,
      events: this.events,
      liveness: this.liveness,
      registry: this.registry,
      triggersWanted: () => this.config.jobsEnabled && this.state === "running",
      runsJobs: this.config.jobsEnabled,
      settleMissed: () => dispatcher.settleMissed(),
    });
    const publish = await publishJobs({ store, registry: this.registry, config: this.config, log: this.log });
    const loop = new Loop(
      this.config.intervalSeconds * 1000,
      [...steps, ...this.#extraSteps, publish],
      this.log,
      (tick) => {
        for (const listener of this.#tickListeners) listener(tick);
      },
    );
    this.liveness.watch(loop);
    const now = new Date();
    for (const job of jobs) this.scheduler.add(job, now);
    this.scheduler.start();
    this.liveness.moveTo("running");
    if (this.config.jobsEnabled) {
      for (const job of jobs) dispatcher.rememberDowntime(job, known.get(job.name)?.firstSeenAt ?? now, now);
    }
    loop.start();
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
    this.#tickListeners.push(listener);
  }

  /** Add a step to every loop tick (before start): e.g. syncing jobs registered over HTTP. */
  addLoopStep(step: LoopStep): void {
    this.#extraSteps.push(step);
  }

  /**
   * Called in start() once the database is open, before jobs are scheduled: jobs added here (those
   * stored in the database) are caught up after downtime like the others. A failure is logged.
   */
  onStart(hook: () => Promise<void>): void {
    this.#startHooks.push(hook);
  }

  /** Called during stop, before the database closes (the HTTP listener, alert delivery). */
  onStop(hook: () => Promise<void>): void {
    this.#stopHooks.push(hook);
  }

  /** Run a job now in this process. Resolves once its row exists; `done` settles with the outcome. */
  async triggerJob(
    name: string,
    params: Record<string, string> = {},
    trigger: RunTrigger = "manual",
  ): Promise<StartedRun> {
    const job = this.registry.require(name);
    const { executor } = await this.connect();
    return executor.runNow(job, trigger, params);
  }

  /** The latest finished run of a job: status, duration, error, times. */
  async getLastExecutionResult(name: string): Promise<RunRow | undefined> {
    this.registry.require(name);
    return (await this.connect()).store.lastFinishedRun(name);
  }

  /** --once (see run/once.ts). */
  async runOnce(names: string[], params: Record<string, string> = {}): Promise<RunOutcome[]> {
    const { store, executor } = await this.connect();
    return runOnce({ store, executor, registry: this.registry }, names, params);
  }

  /** Graceful stop: no new fires, wait for runs up to the grace, record the rest interrupted. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.state === "running";
    this.liveness.moveTo("stopping");
    this.scheduler.stop();
    await this.loop?.stop();
    try {
      await this.executor?.stop(this.config.shutdownGraceSeconds * 1000);
      if (wasRunning) await bounded(this.store?.markRunnerStopped(), 1000);
      for (const hook of this.#stopHooks)
        await bounded(
          hook().catch((error) => this.log.warn({ err: error }, "stop hook failed")),
          3000,
        );
    } finally {
      await this.#database
        ?.close()
        .catch((error) => this.log.warn({ err: error }, "closing the database failed"));
      this.liveness.moveTo("stopped");
      if (wasRunning) this.log.info("runner stopped");
    }
  }
}
