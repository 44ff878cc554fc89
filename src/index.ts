export type { Config } from "./config.js";
export { loadConfig } from "./config.js";
export { ConfigError } from "./errors.js";
export { defineJob } from "./jobs/schema.js";
export { Runner, type RunnerOptions, type ScheduledJobView } from "./runner.js";
export type { RunRow } from "./store/store.js";
export type {
  CatchUpPolicy,
  Job,
  JobContext,
  JobHandler,
  JobInput,
  OverlapPolicy,
  RunOutcome,
  RunStatus,
  RunTrigger,
} from "./types.js";
