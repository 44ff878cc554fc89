import type { IncomingMessage } from "node:http";
import { AuditStore } from "../store/audit.js";
import { PauseStore } from "../store/pauses.js";
import { parsePause } from "../util/pause-input.js";
import { actorOf } from "./actor.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

type Parts = Pick<SidecarParts, "store" | "registry" | "config">;

/** A job of this replica's registry, or one the database knows (another replica's). */
async function requireJob({ registry }: Parts, pauses: PauseStore, name: string): Promise<void> {
  if (!registry.has(name) && !(await pauses.state(name))) throw new HttpError(404, `unknown job "${name}"`);
}

/**
 * POST /v1/admin/jobs/:name/pause with an optional body `{"reason": "...", "until": ISO}` or
 * `{"reason": "...", "for": "2h"}`: paused on every replica at their next claim, resumed by itself
 * at `until`. The owner is the caller (actorOf); the pause is in the audit trail.
 */
export async function pauseJob(parts: Parts, name: string, req: IncomingMessage): Promise<Reply> {
  const body = await readJson(req);
  const unknown = Object.keys(body).filter((key) => !["reason", "until", "for"].includes(key));
  if (unknown.length > 0)
    throw new HttpError(400, `${unknown[0]}: unknown field (expected reason, until, for)`);
  const input = parsePause(body);
  if ("problems" in input) throw new HttpError(400, input.problems.join("; "));
  const sql = parts.store().sql;
  const pauses = new PauseStore(sql);
  await requireJob(parts, pauses, name);
  const actor = actorOf(req, parts.config);
  await pauses.pause(name, { by: actor, ...input });
  const until = input.until?.toISOString() ?? null;
  await new AuditStore(sql).record({
    actor,
    action: "pause",
    jobName: name,
    details: { reason: input.reason, until },
  });
  return json(200, {
    job_name: name,
    paused: true,
    paused_by: actor,
    paused_reason: input.reason,
    paused_until: until,
  });
}

/** POST /v1/admin/jobs/:name/resume: `{"job_name", "paused": false, "was_paused"}`. */
export async function resumeJob(parts: Parts, name: string, req: IncomingMessage): Promise<Reply> {
  const body = await readJson(req);
  if (Object.keys(body).length > 0) throw new HttpError(400, `${Object.keys(body)[0]}: unknown field`);
  const sql = parts.store().sql;
  const pauses = new PauseStore(sql);
  await requireJob(parts, pauses, name);
  const wasPaused = await pauses.resume(name);
  if (wasPaused)
    await new AuditStore(sql).record({ actor: actorOf(req, parts.config), action: "resume", jobName: name });
  return json(200, { job_name: name, paused: false, was_paused: wasPaused });
}
