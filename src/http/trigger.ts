import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { pendingRetryConflict } from "../run/retry-conflict.js";
import type { OverlapPolicy } from "../types.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

const body = z.object({ params: z.record(z.string(), z.string()).default({}) }).strict();

/**
 * POST /v1/jobs/:name/trigger and POST /api/v1/scheduler/jobs/:jobName/trigger: run the job now
 * in this replica and answer 202 with the run id. 404 unknown job; 409 while a run of a job whose
 * overlap is `skip` goes on anywhere or a retry of it is pending; an Idempotency-Key repeated
 * within 24 h returns the first run id instead of starting another run.
 */
type TriggerNeeds = Pick<
  SidecarParts,
  "registry" | "config" | "liveness" | "store" | "runNow" | "runningHere"
>;

export async function triggerJob(needs: TriggerNeeds, name: string, req: IncomingMessage): Promise<Reply> {
  const { registry, config, liveness } = needs;
  const job = registry.get(name);
  if (!job) throw new HttpError(404, `unknown job "${name}"`);
  const parsed = body.safeParse(await readJson(req));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  if (!config.jobsEnabled) throw new HttpError(503, "jobs are disabled on this runner (JOBS_ENABLED=false)");
  if (liveness.state !== "running") throw new HttpError(503, `runner is ${liveness.state}`);
  const store = needs.store();
  const key = req.headers["idempotency-key"];
  // Check and start one request at a time per job, so two concurrent requests cannot both
  // pass the overlap check; the run is in the executor's view once triggerJob resolves.
  const start = () =>
    oneAtATime(needs, name, async () => {
      await refuseOverlap(needs, name, job.overlap);
      return (await needs.runNow(name, parsed.data.params, "http")).runId;
    });
  if (typeof key !== "string" || key.length === 0)
    return json(202, { run_id: await start(), job_name: name });
  if (key.length > 200) throw new HttpError(400, "Idempotency-Key: at most 200 characters");
  const request = await store.idempotentTrigger(name, key, parsed.data.params);
  if (request.duplicate) {
    // The same key with other params is another request under a reused key, not a retry: saying
    // "done" with the first run would hide that these params never ran.
    if (!sameParams(request.params ?? {}, parsed.data.params))
      throw new HttpError(422, "Idempotency-Key was already used for this job with other params");
    const runId = request.runId ?? (await waitForRun(() => store.triggerRunId(request.id)));
    if (!runId) throw new HttpError(409, "a request with this Idempotency-Key is still being started; retry");
    return json(202, { run_id: runId, job_name: name, duplicate: true });
  }
  let runId: string;
  try {
    runId = await start();
  } catch (error) {
    // No run started (409, database error): the key must not keep answering with nothing.
    await store.releaseTrigger(request.id).catch(() => {});
    throw error;
  }
  await store.attachTriggerRun(request.id, runId);
  return json(202, { run_id: runId, job_name: name });
}

function sameParams(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Per sidecar (keyed by its parts), the tail of each job's queue of trigger requests. */
const queues = new WeakMap<object, Map<string, Promise<unknown>>>();

function oneAtATime<T>(owner: object, name: string, task: () => Promise<T>): Promise<T> {
  const perJob = queues.get(owner) ?? new Map<string, Promise<unknown>>();
  queues.set(owner, perJob);
  const next = (perJob.get(name) ?? Promise.resolve()).then(task, task);
  const tail = next.catch(() => {});
  perJob.set(name, tail);
  void tail.then(() => {
    if (perJob.get(name) === tail) perJob.delete(name);
  });
  return next;
}

async function refuseOverlap(needs: TriggerNeeds, name: string, overlap: OverlapPolicy): Promise<void> {
  if (overlap !== "skip") return;
  if (needs.runningHere(name) > 0 || (await needs.store().isRunning(name))) {
    throw new HttpError(409, `job "${name}" is running and its overlap is skip`);
  }
  // A failed run's retry waiting for its backoff is the job's next run: not a second one beside it.
  const pending = await pendingRetryConflict(needs.store(), name, overlap);
  if (pending) throw new HttpError(409, pending);
}

/** A concurrent duplicate may arrive before the first request attached its run: wait a little. */
async function waitForRun(read: () => Promise<string | null>): Promise<string | null> {
  for (let i = 0; i < 40; i++) {
    const runId = await read();
    if (runId) return runId;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return null;
}
