import type { Logger } from "pino";
import type { Sql } from "postgres";
import { errorMessage } from "../errors.js";
import { AuditStore } from "../store/audit.js";
import { PauseStore } from "../store/pauses.js";
import type { RunEventBus } from "./events.js";

/** The actor of what the runner does by itself: auto-pause, a pause's expiry. */
export const RUNNER_ACTOR = "runner";

/**
 * Auto-pause: a run whose failure brings its job's consecutive failures to the job's
 * pauseAfterFailures pauses the job (owner `runner`, reason: the last error), records it in the
 * audit trail and publishes `paused`, which the alert webhook reports. Only the replica whose
 * statement paused it does so, once, however many replicas see failures at the same time.
 */
export function autoPause(events: RunEventBus, sql: Sql, log: Logger): void {
  const pauses = new PauseStore(sql);
  const audit = new AuditStore(sql);
  events.on("finished", ({ job, outcome, failures }) => {
    const limit = job.pauseAfterFailures;
    if (limit === undefined || !failures || outcome.status === "succeeded" || failures.current < limit)
      return;
    const reason = `${failures.current} consecutive failures, the last: ${outcome.error ?? outcome.status}`;
    void (async () => {
      if (!(await pauses.pause(job.name, { by: RUNNER_ACTOR, reason, until: null }, true))) return;
      log.warn({ job_name: job.name }, "job %s paused: %s", job.name, reason);
      await audit.record({
        actor: RUNNER_ACTOR,
        action: "pause",
        jobName: job.name,
        details: { reason, auto: true },
      });
      events.emit("paused", { jobName: job.name, reason, failures: failures.current });
    })().catch((error) => log.warn({ job_name: job.name }, "auto-pause failed: %s", errorMessage(error)));
  });
}

/**
 * The loop's step: lift every pause whose expiry has passed, each an audited resume. One
 * transaction: a resume is never seen without its audit event, nor lost with it.
 */
export async function liftExpiredPauses(sql: Sql): Promise<void> {
  await sql.begin(async (transaction) => {
    // The stores only run statements, which a transaction's handle serves like the pool's.
    const tx = transaction as unknown as Sql;
    const audit = new AuditStore(tx);
    for (const row of await new PauseStore(tx).resumeExpired())
      await audit.record({
        actor: RUNNER_ACTOR,
        action: "resume",
        jobName: row.job_name,
        details: { expired: true, paused_by: row.paused_by, reason: row.paused_reason },
      });
  });
}
