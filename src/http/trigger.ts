import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { Runner } from "../runner.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

const body = z.object({ params: z.record(z.string(), z.string()).default({}) }).strict();

/**
 * POST /v1/jobs/:name/trigger and POST /api/v1/scheduler/jobs/:jobName/trigger: run the job now
 * in this replica and answer 202 with the run id. 404 unknown job; 409 while a run of a job whose
 * overlap is `skip` goes on anywhere; an Idempotency-Key repeated within 24 h returns the first
 * run id instead of starting another run.
 */
export async function triggerJob(runner: Runner, name: string, req: IncomingMessage): Promise<Reply> {
  const job = runner.registry.get(name);
  if (!job) throw new HttpError(404, `unknown job "${name}"`);
  const parsed = body.safeParse(await readJson(req));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  if (!runner.config.jobsEnabled)
    throw new HttpError(503, "jobs are disabled on this runner (JOBS_ENABLED=false)");
  const store = runner.store;
  if (!store || runner.state !== "running") throw new HttpError(503, `runner is ${runner.state}`);
  const key = req.headers["idempotency-key"];
  if (typeof key === "string" && key.length > 0) {
    if (key.length > 200) throw new HttpError(400, "Idempotency-Key: at most 200 characters");
    const request = await store.idempotentTrigger(name, key, parsed.data.params);
    if (request.duplicate) {
      const runId = request.runId ?? (await waitForRun(() => store.triggerRunId(request.id)));
      return json(202, { run_id: runId, job_name: name, duplicate: true });
    }
    await refuseOverlap(runner, name, job.overlap);
    const run = await runner.triggerJob(name, parsed.data.params, "http");
    await store.attachTriggerRun(request.id, run.runId);
    return json(202, { run_id: run.runId, job_name: name });
  }
  await refuseOverlap(runner, name, job.overlap);
  const run = await runner.triggerJob(name, parsed.data.params, "http");
  return json(202, { run_id: run.runId, job_name: name });
}

async function refuseOverlap(runner: Runner, name: string, overlap: string): Promise<void> {
  if (overlap !== "skip") return;
  if (runner.executor?.isRunning(name) || (await runner.store!.isRunning(name))) {
    throw new HttpError(409, `job "${name}" is running and its overlap is skip`);
  }
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
