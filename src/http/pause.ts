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
 * Pause a known job (404 otherwise) for `actor` and record it in the audit trail; the expiry as
 * ISO, or null. The admin API and the console's pause form both come here.
 */
export async function pauseAudited(
  parts: Parts,
  name: string,
  input: { reason: string | null; until: Date | null },
  actor: string,
): Promise<string | null> {
  const sql = parts.store().sql;
  const pauses = new PauseStore(sql);
  await requireJob(parts, pauses, name);
  await pauses.pause(name, { by: actor, ...input });
  const until = input.until?.toISOString() ?? null;
  await new AuditStore(sql).record({
    actor,
    action: "pause",
    jobName: name,
    details: { reason: input.reason, until },
  });
  return until;
}

/** Resume a known job (404 otherwise); a resume that lifted a pause is an audit event. */
export async function resumeAudited(parts: Parts, name: string, actor: string): Promise<boolean> {
  const sql = parts.store().sql;
  const pauses = new PauseStore(sql);
  await requireJob(parts, pauses, name);
  const wasPaused = await pauses.resume(name);
  if (wasPaused) await new AuditStore(sql).record({ actor, action: "resume", jobName: name });
  return wasPaused;
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
  const actor = actorOf(req, parts.config);
  const until = await pauseAudited(parts, name, input, actor);
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
  const wasPaused = await resumeAudited(parts, name, actorOf(req, parts.config));
  return json(200, { job_name: name, paused: false, was_paused: wasPaused });
}
