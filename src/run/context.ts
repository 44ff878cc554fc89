import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { JobContext } from "../types.js";
import { capturing, type OutputSink, withOutput } from "./capture.js";
import type { RunEventBus, RunInfo } from "./events.js";
import type { RunController } from "./invoke.js";

/** What a handler's context is made of. */
export interface ContextParts {
  info: RunInfo;
  controller: RunController;
  params: Record<string, string>;
  idempotencyKey: string;
  sql: Sql;
  log: Logger;
  events: RunEventBus;
}

/**
 * The `ctx` a handler receives. `signal` and `log` are made when first read: most handlers use
 * neither (see RunController), and 10,000 child loggers a second would cost the fan-out.
 */
export function jobContext({
  info,
  controller,
  params,
  idempotencyKey,
  sql,
  log: parent,
  events,
}: ContextParts): JobContext {
  let log: Logger | undefined;
  const output: OutputSink = (stream, line) => events.emit("output", { runId: info.runId, stream, line });
  return withOutput<JobContext>(
    {
      get signal() {
        return controller.signal;
      },
      get log() {
        // Its lines are kept with the run too (src/run/output.ts).
        log ??= capturing(
          parent.child({ job_name: info.job.name, run_id: info.runId, attempt: info.attempt }),
          output,
        );
        return log;
      },
      sql,
      params,
      runId: info.runId,
      jobName: info.job.name,
      scheduledFor: info.scheduledFor,
      attempt: info.attempt,
      trigger: info.trigger,
      idempotencyKey,
      // job_runs ids only grow: a later run of the job always holds a larger token.
      fencingToken: Number(info.runId),
      progress: (done, total) => events.emit("progress", { ...info, done, total }),
    },
    output,
  );
}
