import { hostname } from "node:os";
import type { LoopStep } from "./loop.js";
import type { Runner } from "../runner.js";
import { VERSION } from "../version.js";

/**
 * What every loop tick does, in order: write this replica's heartbeat, renew the leases of its
 * runs, reap runs whose runner died, start manual triggers meant for it, and settle missed slots.
 */
export function housekeeping(runner: Runner): LoopStep[] {
  const store = () => runner.store!;
  return [
    {
      name: "heartbeat",
      run: async () => {
        await store().heartbeat({ hostname: hostname(), pid: process.pid, version: VERSION });
        runner.lastHeartbeatAt = new Date();
      },
    },
    { name: "leases", run: () => store().renewLeases(runner.executor!.runningIds()) },
    {
      name: "reaper",
      run: async () => {
        for (const row of await store().reapAbandoned()) {
          runner.events.emit("abandoned", {
            runId: row.id,
            jobName: row.job_name,
            runnerId: row.runner_id,
            consecutiveFailures: row.consecutive_failures,
          });
        }
      },
    },
    { name: "triggers", run: () => pickUpTriggers(runner) },
    { name: "missed slots", run: () => runner.settleMissed() },
  ];
}

/** Requests from `runner trigger` (job_triggers), each taken by exactly one replica. */
async function pickUpTriggers(runner: Runner): Promise<void> {
  if (!runner.config.jobsEnabled || runner.state !== "running") return;
  const store = runner.store!;
  for (const request of await store.claimTriggers(runner.registry.names())) {
    const job = runner.registry.get(request.job_name);
    if (!job) continue;
    const run = await runner.executor!.runNow(job, request.trigger, request.params);
    await store.attachTriggerRun(request.id, run.runId);
  }
}
