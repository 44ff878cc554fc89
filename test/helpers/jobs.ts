import { parseCodeJob } from "../../src/jobs/schema.js";
import type { Job, JobInput } from "../../src/types.js";

/** A validated job with defaults, for tests. */
export function job(input: Partial<JobInput> & { name: string }): Job {
  const parsed = parseCodeJob({ schedule: "* * * * *", run: () => undefined, ...input }, "test", "test");
  if (!parsed.job) throw new Error(parsed.problems.join("\n"));
  return parsed.job;
}
