import { jobStatus } from "../observe/status.js";
import type { Runner } from "../runner.js";
import { connectedStore, HttpError, json, type Reply } from "./respond.js";

/** GET /v1/admin/jobs/status: the fields of CONTRACT §6, from the database. */
export async function adminStatus(runner: Runner): Promise<Reply> {
  const store = connectedStore(runner);
  const jobs = await jobStatus(store, runner.registry, (name) => runner.scheduler.nextRunAt(name));
  return json(200, { jobs });
}

/** GET /v1/admin/jobs/:name/runs?limit=N (1..1000, default 20): the newest runs first. */
export async function adminRuns(runner: Runner, name: string, query: URLSearchParams): Promise<Reply> {
  const store = connectedStore(runner);
  const raw = query.get("limit") ?? "20";
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000)
    throw new HttpError(400, "limit: expected an integer from 1 to 1000");
  const runs = await store.history(name, limit);
  if (runs.length === 0 && !runner.registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  return json(200, { job_name: name, runs });
}
