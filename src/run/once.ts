import { hostname } from "node:os";
import type { Registry } from "../jobs/registry.js";
import { latestInstant } from "../schedule/cron.js";
import { ON_TIME_TOLERANCE_MS } from "../schedule/misfire.js";
import type { Store } from "../store/store.js";
import type { RunOutcome, SlotFire } from "../types.js";
import { VERSION } from "../version.js";
import type { Executor } from "./executor.js";

export interface OnceNeeds {
  store: Store;
  executor: Executor;
  registry: Registry;
}

/**
 * --once: with names, run those jobs now (trigger `once`) whatever their schedule; without, run
 * every job whose latest slot is within its grace and has no run yet (the claim decides). Writes
 * the heartbeat first. Resolves with the final outcomes.
 */
export async function runOnce(
  { store, executor, registry }: OnceNeeds,
  names: string[],
  params: Record<string, string>,
): Promise<RunOutcome[]> {
  await store.registerJobs(registry.names());
  await store.heartbeat({ hostname: hostname(), pid: process.pid, version: VERSION });
  let started: { done: Promise<RunOutcome> }[];
  if (names.length > 0) {
    const jobs = names.map((name) => registry.require(name));
    started = await Promise.all(jobs.map((job) => executor.runNow(job, "once", params)));
  } else {
    started = await executor.fireSlots(latestSlots(registry, new Date()));
  }
  return Promise.all(started.map((run) => run.done));
}

/** Each enabled job's latest instant, when it is recent enough to be worth running. */
function latestSlots(registry: Registry, now: Date): SlotFire[] {
  const fires: SlotFire[] = [];
  for (const job of registry.list()) {
    if (!job.enabled) continue;
    const latest = latestInstant(job.schedule, job.timezone, now, job.dst);
    if (!latest) continue;
    const late = now.getTime() - latest.getTime();
    if (late > Math.max(job.misfireGraceSeconds, 60) * 1000) continue;
    fires.push({ job, instant: latest, trigger: late <= ON_TIME_TOLERANCE_MS ? "schedule" : "catch-up" });
  }
  return fires;
}
