import { ConfigError } from "../errors.js";
import type { Registry } from "../jobs/registry.js";
import type { Job } from "../types.js";

/** A job's mutual-exclusion group: its limit (JOB_GROUP_LIMITS) and the jobs in it here. */
export function groupOf(
  job: Job,
  registry: Registry,
  limits: Record<string, number>,
): { name: string; max: number; jobs: string[] } | undefined {
  if (!job.group) return undefined;
  const max = limits[job.group];
  if (max === undefined) return undefined;
  return {
    name: job.group,
    max,
    jobs: registry
      .list()
      .filter((j) => j.group === job.group)
      .map((j) => j.name),
  };
}

/** Every group a job names must have a limit: a group without one would limit nothing, silently. */
export function checkGroups(jobs: Job[], limits: Record<string, number>): void {
  const problems = jobs
    .filter((job) => job.group && limits[job.group] === undefined)
    .map((job) => `job "${job.name}": group "${job.group}" has no limit in JOB_GROUP_LIMITS`);
  if (problems.length > 0) throw new ConfigError(problems);
}
