import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { JobContext, RunTrigger } from "../types.js";
import { capturing, OUTPUT, type OutputSink } from "./capture.js";
import { type RunEventBus, type RunInfo, runInfo } from "./events.js";
import type { RunController } from "./invoke.js";
import { idempotencyKeyOf, type RunStart } from "./retries.js";

/** What every run's context shares: the process's pool, logger and events. */
export interface ContextParts {
  sql: Sql;
  log: Logger;
  events: RunEventBus;
}

/** The run a context belongs to. */
export type ContextRun = RunInfo & RunStart & { controller: RunController };

/**
 * The `ctx` a handler receives. A class, so what most handlers never read (`signal`, `log`,
 * `idempotencyKey`, `progress`, the output sink) costs nothing until read: its accessors live on
 * the prototype, not as closures made for each of 10,000 runs a second.
 */
class RunContext implements JobContext {
  readonly sql: Sql;
  readonly params: Record<string, string>;
  readonly runId: string;
  readonly jobName: string;
  readonly scheduledFor: Date | null;
  readonly attempt: number;
  readonly trigger: RunTrigger;
  /** job_runs ids only grow: a later run of the job always holds a larger token. */
  readonly fencingToken: number;
  readonly #run: ContextRun;
  readonly #parts: ContextParts;
  #log: Logger | undefined;
  #output: OutputSink | undefined;
  #progress: JobContext["progress"] | undefined;

  constructor(run: ContextRun, parts: ContextParts) {
    this.sql = parts.sql;
    this.params = run.params;
    this.runId = run.runId;
    this.jobName = run.job.name;
    this.scheduledFor = run.scheduledFor;
    this.attempt = run.attempt;
    this.trigger = run.trigger;
    this.fencingToken = Number(run.runId);
    this.#run = run;
    this.#parts = parts;
  }

  get signal(): AbortSignal {
    return this.#run.controller.signal;
  }

  get idempotencyKey(): string {
    return idempotencyKeyOf(this.#run);
  }

  /** A child logger whose lines are kept with the run too (src/run/output.ts). */
  get log(): Logger {
    const run = this.#run;
    this.#log ??= capturing(
      this.#parts.log.child({ job_name: run.job.name, run_id: run.runId, attempt: run.attempt }),
      this[OUTPUT],
    );
    return this.#log;
  }

  /** A function of its own, so `const { progress } = ctx` works. */
  get progress(): JobContext["progress"] {
    const { events } = this.#parts;
    const run = this.#run;
    this.#progress ??= (done, total) => events.emit("progress", { ...runInfo(run), done, total });
    return this.#progress;
  }

  /** Where the built-in kinds send a run's output (capture.ts outputOf). */
  get [OUTPUT](): OutputSink {
    const { events } = this.#parts;
    const runId = this.runId;
    this.#output ??= (stream, line) => events.emit("output", { runId, stream, line });
    return this.#output;
  }
}

export function jobContext(run: ContextRun, parts: ContextParts): JobContext {
  return new RunContext(run, parts);
}
