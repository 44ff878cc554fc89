import type { IncomingMessage } from "node:http";
import { API_SOURCE, egressPolicy, parseApiDefinition } from "../jobs/definitions.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

/** GET /api/v1/scheduler/jobs: every registered job with its next run. */
export function listJobs({ listJobs }: Pick<SidecarParts, "listJobs">): Reply {
  return json(200, { jobs: listJobs() });
}

/** GET /api/v1/scheduler/jobs/:jobName/last-result: the latest finished run (404 if none). */
export async function lastResult(
  { registry, store }: Pick<SidecarParts, "registry" | "store">,
  name: string,
): Promise<Reply> {
  if (!registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  const run = await store().lastFinishedRun(name);
  if (!run) throw new HttpError(404, `job "${name}" has no finished run yet`);
  return json(200, run);
}

/**
 * POST /api/v1/scheduler/jobs: register an http job at run time (the jobs-file shape as JSON),
 * persisted in job_definitions so every replica schedules it within one loop and after restarts.
 */
export async function registerJob(
  {
    store,
    registry,
    syncDefinitions,
    listJobs,
    config,
  }: Pick<SidecarParts, "store" | "registry" | "syncDefinitions" | "listJobs" | "config">,
  req: IncomingMessage,
): Promise<Reply> {
  const egress = egressPolicy(config);
  // Not configured in production: refused before the body is read, as unset credentials are.
  if (egress.production && !egress.allowedHosts)
    throw new HttpError(503, "registering jobs over HTTP is disabled: SCHEDULER_API_ALLOWED_HOSTS is unset");
  const body = await readJson(req);
  const parsed = parseApiDefinition(body, egress);
  if (!parsed.job) throw new HttpError(400, parsed.problems.join("; "));
  const { name } = parsed.job;
  if (registry.has(name)) throw new HttpError(409, `job "${name}" already exists`);
  if (!(await store().saveDefinition(name, body))) throw new HttpError(409, `job "${name}" already exists`);
  await syncDefinitions();
  const view = listJobs().find((job) => job.name === name);
  return json(201, { job: view ?? { name } });
}

/**
 * DELETE /api/v1/scheduler/jobs/:jobName: cancel running runs here and deregister. A job
 * registered over HTTP is deleted for every replica; one from a file or code only until this
 * process restarts, and the answer says so.
 */
export async function deleteJob(
  { registry, store, cancelJob }: Pick<SidecarParts, "registry" | "store" | "cancelJob">,
  name: string,
): Promise<Reply> {
  const job = registry.get(name);
  if (!job) throw new HttpError(404, `unknown job "${name}"`);
  const persisted = job.source === API_SOURCE && (await store().deleteDefinition(name));
  cancelJob(name);
  return json(200, {
    deleted: name,
    persisted,
    note: persisted
      ? "deleted for every replica"
      : `defined in ${job.source}: removed from this runner until it restarts; remove it from its source to delete it for good`,
  });
}
