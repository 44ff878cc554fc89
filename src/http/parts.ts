import type { Config } from "../config.js";
import type { Registry } from "../jobs/registry.js";
import type { Metrics } from "../observe/metrics.js";
import type { StartedRun } from "../run/executor.js";
import type { Liveness } from "../run/liveness.js";
import type { ScheduledJobView } from "../runner.js";
import type { Store } from "../store/store.js";
import type { RunTrigger } from "../types.js";

/** One check of /readyz. */
export interface Check {
  name: string;
  status: "ok" | "fail";
  [key: string]: unknown;
}

/**
 * Everything a route may use, built once by the sidecar from the daemon's parts. Each handler
 * declares the few it uses (a Pick of this), so what a route can reach is visible in its signature.
 */
export interface SidecarParts {
  config: Config;
  registry: Registry;
  liveness: Liveness;
  metrics: Metrics;
  /** The database check of /readyz (see databaseProbe). */
  probe: () => Promise<Check>;
  /** The store; 503 while the runner has not connected yet. */
  store: () => Store;
  nextRunAt: (name: string) => Date | undefined;
  listJobs: () => ScheduledJobView[];
  /** Start a run in this replica now. */
  runNow: (name: string, params: Record<string, string>, trigger: RunTrigger) => Promise<StartedRun>;
  /** Runs of a job going on in this replica. */
  runningHere: (name: string) => number;
  cancelJob: (name: string) => boolean;
  /** Brings this replica's registry in step with job_definitions (after a registration). */
  syncDefinitions: () => Promise<void>;
}
