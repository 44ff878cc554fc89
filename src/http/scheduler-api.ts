import type { Runner } from "../runner.js";
import { HttpError, json, type Reply } from "./respond.js";

/** GET /api/v1/scheduler/jobs: every registered job with its next run. */
export function listJobs(runner: Runner): Reply {
  return json(200, { jobs: runner.listScheduledJobs() });
}

/** GET /api/v1/scheduler/jobs/:jobName/last-result: the latest finished run (404 if none). */
export async function lastResult(runner: Runner, name: string): Promise<Reply> {
  if (!runner.registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  const run = await runner.getLastExecutionResult(name);
  if (!run) throw new HttpError(404, `job "${name}" has no finished run yet`);
  return json(200, run);
}
