import type { Config } from "../../config.js";
import { parseCodeJob } from "../schema.js";
import type { Job } from "../../types.js";
import { pruneRuns } from "./prune-runs.js";
import { storageJanitor } from "./storage-janitor.js";

/** The built-in jobs that the configuration turns on. */
export function builtinJobs(config: Config): Job[] {
  const inputs: unknown[] = [];
  if (config.storageJanitorDir) {
    const options = {
      dir: config.storageJanitorDir,
      maxAgeHours: config.storageJanitorMaxAgeHours,
      dryRun: config.storageJanitorDryRun,
    };
    inputs.push({
      name: "storage_janitor",
      schedule: "0 3 * * *",
      timeout: "30m",
      description: `delete files older than ${options.maxAgeHours} h under ${options.dir}${options.dryRun ? " (dry run)" : ""}`,
      run: (ctx: Parameters<typeof storageJanitor>[1]) => storageJanitor(options, ctx),
    });
  }
  if (config.runRetentionDays > 0) {
    const days = config.runRetentionDays;
    inputs.push({
      name: "prune_runs",
      schedule: "17 4 * * *",
      timeout: "30m",
      description: `delete job_runs older than ${days} days`,
      run: (ctx: { sql: Parameters<typeof pruneRuns>[0]; signal: AbortSignal }) =>
        pruneRuns(ctx.sql, days, ctx.signal),
    });
  }
  return inputs.map((input) => parseCodeJob(input, "built-in job", "builtin").job!);
}
