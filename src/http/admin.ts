import { jobStatus, pendingRetryView } from "../observe/status.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply } from "./respond.js";

/** GET /v1/admin/jobs/status: every job's state from the database (docs/contract.md#http). */
export async function adminStatus({
  store,
  registry,
  nextRunAt,
}: Pick<SidecarParts, "store" | "registry" | "nextRunAt">): Promise<Reply> {
  const jobs = await jobStatus(store(), registry, nextRunAt);
  return json(200, { jobs });
}

/**
 * GET /v1/admin/jobs/:name/runs?limit=N (1..1000, default 20): the newest runs first, and the
 * retries waiting for their backoff (not runs yet) apart.
 */
export async function adminRuns(
  { store, registry }: Pick<SidecarParts, "store" | "registry">,
  name: string,
  query: URLSearchParams,
): Promise<Reply> {
  const raw = query.get("limit") ?? "20";
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000)
    throw new HttpError(400, "limit: expected an integer from 1 to 1000");
  const runs = await store().history(name, limit);
  if (runs.length === 0 && !registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  const pending = (await store().retries.ofJob(name)).map(pendingRetryView);
  return json(200, { job_name: name, runs, pending_retries: pending });
}
