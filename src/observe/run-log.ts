import type { Logger } from "pino";
import type { RunEventBus } from "../run/events.js";
import { MissLog } from "./miss-log.js";

/** docs/contract.md#logs: every run logs its start and its end with job_name, run_id, runner_id, attempt, status, duration_ms. */
export function logRuns(events: RunEventBus, log: Logger): void {
  events.on("started", (run) =>
    log.info(
      {
        job_name: run.job.name,
        run_id: run.runId,
        attempt: run.attempt,
        trigger: run.trigger,
        status: "running",
        scheduled_for: run.scheduledFor,
      },
      "run started",
    ),
  );
  events.on("finished", (run) => {
    const { outcome } = run;
    const fields = {
      job_name: run.job.name,
      run_id: run.runId,
      attempt: run.attempt,
      trigger: run.trigger,
      status: outcome.status,
      duration_ms: Math.round(outcome.durationMs),
      consecutive_failures: run.failures?.current,
    };
    if (outcome.status === "succeeded") log.info(fields, "run finished");
    else {
      const err = new Error(outcome.error ?? outcome.status);
      err.name = outcome.status;
      err.stack = outcome.errorStack ?? `${outcome.status}: ${err.message}`;
      log.warn({ ...fields, err }, "run %s: %s", outcome.status, outcome.error ?? "");
    }
  });
  events.on("skipped", (skip) =>
    log.info(
      {
        job_name: skip.job.name,
        run_id: skip.runId,
        status: "skipped",
        scheduled_for: skip.scheduledFor,
        reason: skip.reason,
      },
      "run skipped",
    ),
  );
  events.on("abandoned", (run) =>
    log.warn(
      { job_name: run.jobName, run_id: run.runId, status: "abandoned", dead_runner_id: run.runnerId },
      "run abandoned: its runner stopped renewing the lease",
    ),
  );
  const misses = new MissLog((counts) =>
    log.warn({ missed: counts }, "slots missed (at most one such line a minute): %j", counts),
  );
  events.on("missed", ({ reason, slots }) => misses.add(reason, slots));
}
