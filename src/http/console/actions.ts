import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { parsePause } from "../../util/pause-input.js";
import { actorOf } from "../actor.js";
import { askBackfill } from "../backfill.js";
import { type PageTokens, refuseCrossSite } from "../csrf.js";
import type { SidecarParts } from "../parts.js";
import { pauseAudited, resumeAudited } from "../pause.js";
import { HttpError, type Reply, readBody } from "../respond.js";
import { dryRunPage } from "./backfill-dry-run.js";

/**
 * The console's form posts (POST /ui/jobs/:name/trigger|pause|resume|backfill). A browser sends its Basic
 * credentials whichever page posts, so each one refuses a cross-site request first and then
 * demands the token only a page served by the runner carries (csrf.ts), then answers 303 to a page.
 */
async function formFields(tokens: PageTokens, req: IncomingMessage): Promise<URLSearchParams> {
  refuseCrossSite(req);
  const fields = new URLSearchParams(await readBody(req));
  tokens.check(fields.get("token"));
  return fields;
}

const seeOther = (location: string): Reply => ({ status: 303, raw: true, body: "", headers: { location } });
const jobPath = (name: string) => `/jobs/${encodeURIComponent(name)}`;

const paramsSchema = z.record(z.string(), z.string());

/** The params field: empty, or a JSON object whose values are strings (what a trigger takes). */
function params(text: string | null): Record<string, string> {
  if (!text || text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'params: expected a JSON object such as {"region": "eu"}');
  }
  const parsed = paramsSchema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, "params: expected a JSON object whose values are strings");
  return parsed.data;
}

/** Run the job now in this replica, with the form's params; then to the run's page. */
export async function triggerFromForm(
  { registry, liveness, config, runNow }: Pick<SidecarParts, "registry" | "liveness" | "config" | "runNow">,
  tokens: PageTokens,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  const fields = await formFields(tokens, req);
  if (!registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  const given = params(fields.get("params"));
  if (liveness.state !== "running") throw new HttpError(503, `runner is ${liveness.state}`);
  if (!config.jobsEnabled) throw new HttpError(503, "jobs are disabled on this runner (JOBS_ENABLED=false)");
  const run = await runNow(name, given, "http");
  return seeOther(`/runs/${run.runId}`);
}

/** A datetime-local value ("2026-12-24T00:00") is labelled UTC on the form: it gets its Z here. */
const utcInput = (text: string | null) =>
  text && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(text) ? `${text}Z` : text || undefined;

/** Pause with the form's reason (required) and optional until (UTC) or for; then to the job page. */
export async function pauseFromForm(
  parts: Pick<SidecarParts, "store" | "registry" | "config">,
  tokens: PageTokens,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  const fields = await formFields(tokens, req);
  const reason = fields.get("reason") ?? "";
  if (reason.trim() === "") throw new HttpError(400, "reason: required, say why the job is paused");
  const input = parsePause({
    reason,
    until: utcInput(fields.get("until")),
    for: fields.get("for") || undefined,
  });
  if ("problems" in input) throw new HttpError(400, input.problems.join("; "));
  await pauseAudited(parts, name, input, actorOf(req, parts.config));
  return seeOther(jobPath(name));
}

export async function resumeFromForm(
  parts: Pick<SidecarParts, "store" | "registry" | "config">,
  tokens: PageTokens,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  await formFields(tokens, req);
  await resumeAudited(parts, name, actorOf(req, parts.config));
  return seeOther(jobPath(name));
}

/**
 * Backfill a window of the job, checked and queued by the JSON route's own code (backfill.ts). A
 * dry run answers a page listing the slots; a request answers 303 to the job page, which lists it,
 * carrying the JSON route's answer as its body for the audit event (audited.ts).
 */
export async function backfillFromForm(
  parts: Pick<SidecarParts, "store" | "registry" | "config" | "liveness">,
  tokens: PageTokens,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  const fields = await formFields(tokens, req);
  const given = { concurrency: fields.get("concurrency") ?? "", rate: fields.get("rate") ?? "" };
  const answer = await askBackfill(
    parts,
    name,
    {
      from: utcInput(fields.get("from")),
      to: utcInput(fields.get("to")),
      concurrency: given.concurrency.trim() || undefined,
      rate: given.rate.trim() || undefined,
      dryRun: fields.has("dry_run"),
    },
    actorOf(req, parts.config),
  );
  if ("dry_run" in answer)
    return dryRunPage(
      parts,
      parts.registry.get(name) ?? { name, timezone: "UTC" },
      answer,
      given,
      tokens.issue(),
    );
  return { status: 303, body: answer, headers: { location: `${jobPath(name)}#backfills` } };
}
