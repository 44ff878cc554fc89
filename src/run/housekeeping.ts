import { hostname } from "node:os";
import type { Registry } from "../jobs/registry.js";
import type { Store } from "../store/store.js";
import { VERSION } from "../version.js";
import type { RunEventBus } from "./events.js";
import type { Executor } from "./executor.js";
import type { Liveness } from "./liveness.js";
import { liftExpiredPauses } from "./pausing.js";
import type { LoopStep } from "./loop.js";

/** Exactly what the loop's housekeeping uses. */
export interface HousekeepingNeeds {
  store: Store;
  executor: Executor;
  events: RunEventBus;
  liveness: Liveness;
  registry: Registry;
  /** False while not running or when JOBS_ENABLED=false: triggers and retries stay for another replica. */
  triggersWanted: () => boolean;
  /** JOBS_ENABLED: only a replica that runs jobs writes the shared `jobs-runner` heartbeat. */
  runsJobs: boolean;
  settleMissed: () => Promise<void>;
}

/**
 * What every loop tick does, in order: write this replica's heartbeat, renew the leases of its
 * runs, reap runs whose runner died, lift expired pauses, start manual triggers meant for it, arm
 * the retries of its jobs coming due (those of a replica that is gone too), and settle missed slots.
 */
export function housekeeping(needs: HousekeepingNeeds): LoopStep[] {
  const { store, executor, events, liveness } = needs;
  // This start's span of job_runner_spans: slots no span covers were missed with the runner down.
  const startedAt = new Date();
  return [
    {
      name: "heartbeat",
      run: async () => {
        await store.heartbeat({ hostname: hostname(), pid: process.pid, version: VERSION }, needs.runsJobs);
        if (needs.runsJobs) await store.slots.cover(startedAt);
        liveness.heartbeatWritten();
      },
    },
    { name: "leases", run: () => store.renewLeases(executor.runningIds()) },
    {
      name: "reaper",
      run: async () => {
        for (const row of await store.reapAbandoned()) {
          events.emit("abandoned", {
            runId: row.id,
            jobName: row.job_name,
            runnerId: row.runner_id,
            consecutiveFailures: row.consecutive_failures,
          });
        }
      },
    },
    // Before the triggers: a job whose pause has just expired takes its requests in this tick.
    { name: "pause expiry", run: () => liftExpiredPauses(store.sql) },
    { name: "triggers", run: () => pickUpTriggers(needs) },
    { name: "retries", run: () => adoptRetries(needs) },
    { name: "missed slots", run: needs.settleMissed },
  ];
}

/** Requests from `runner trigger` (job_triggers), each taken by exactly one replica. */
async function pickUpTriggers({
  store,
  executor,
  registry,
  triggersWanted,
}: HousekeepingNeeds): Promise<void> {
  if (!triggersWanted()) return;
  for (const request of await store.claimTriggers(registry.has)) {
    const job = registry.get(request.job_name);
    if (!job) continue;
    const run = await executor.runNow(job, request.trigger, request.params);
    await store.attachTriggerRun(request.id, run.runId);
  }
}

/** Retries (job_retries) of this replica's jobs coming due before the next tick, whoever scheduled them. */
async function adoptRetries({
  executor,
  registry,
  triggersWanted,
  liveness,
}: HousekeepingNeeds): Promise<void> {
  if (!triggersWanted()) return;
  // Each tick arms the retries coming due before the next one; a timer firing once this replica
  // is stopping takes nothing.
  const horizonMs = liveness.loop?.intervalMs ?? 60_000;
  const jobOf = (name: string) => (triggersWanted() ? registry.get(name) : undefined);
  await executor.retries.adopt(jobOf, registry.has, horizonMs);
}
