import type { IncomingMessage } from "node:http";
import { slotsToRun } from "../run/backfill.js";
import { slotsInWindow } from "../schedule/backfill-slots.js";
import { MAX_OPEN_BACKFILLS } from "../store/store.js";
import { type BackfillInput, parseBackfill } from "../util/backfill-input.js";
import { actorOf } from "./actor.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

const FIELDS = ["from", "to", "concurrency", "rate", "dry_run", "dryRun"];

type BackfillNeeds = Pick<SidecarParts, "store" | "registry" | "config">;

interface BackfillWindowJson {
  job_name: string;
  from: string;
  to: string;
}

/** What a dry run finds: the slots it would run, oldest first; nothing is stored. */
export interface BackfillDryRun extends BackfillWindowJson {
  dry_run: true;
  slots: string[];
  already_succeeded: number;
}

/** A request queued for the running daemons. */
export interface BackfillQueued extends BackfillWindowJson {
  backfill_id: string;
  concurrency: number;
  rate: number | null;
  slots: number;
}

/**
 * A backfill asked for over HTTP, from the JSON route or the console's form: the window and limits
 * checked (util/backfill-input.ts), the job known here, the window's slots counted, then either
 * the dry run's list or a job_backfills request by `actor`. Bad input is a one-line HttpError.
 */
export async function askBackfill(
  parts: BackfillNeeds,
  name: string,
  ask: BackfillInput & { dryRun: boolean },
  actor: string,
): Promise<BackfillDryRun | BackfillQueued> {
  const input = parseBackfill(ask);
  if ("problems" in input) throw new HttpError(400, input.problems.join("; "));
  const job = parts.registry.get(name);
  if (!job) throw new HttpError(404, `unknown job "${name}"`);
  const found = slotsInWindow(job, input.from, input.to);
  if ("tooMany" in found)
    throw new HttpError(
      400,
      `from: the window holds more than ${found.tooMany} slots of ${name}; backfill a shorter one`,
    );
  const store = parts.store();
  const window = { job_name: name, from: input.from.toISOString(), to: input.to.toISOString() };
  if (ask.dryRun) {
    const todo = await slotsToRun(store, { job, from: input.from, to: input.to, slots: found.slots });
    return {
      ...window,
      dry_run: true,
      slots: todo.map((slot) => slot.toISOString()),
      already_succeeded: found.slots.length - todo.length,
    };
  }
  const id = await store.backfills.request(name, input, actor);
  if (id === null)
    throw new HttpError(
      409,
      `${MAX_OPEN_BACKFILLS} backfills of ${name} are open already; wait for one to finish`,
    );
  return {
    backfill_id: id,
    ...window,
    concurrency: input.concurrency,
    rate: input.rate,
    slots: found.slots.length,
  };
}

/**
 * POST /v1/admin/jobs/:name/backfill with `{"from", "to", "concurrency"?, "rate"?, "dry_run"?}`:
 * a backfill request every replica that has the job works on (run/backfill-requests.ts), 202 with
 * its id; with `dry_run`, 200 with the slots it would run and nothing stored. Behind the CSRF,
 * admin and audit wrappers (routes.ts).
 */
export async function backfillJob(parts: BackfillNeeds, name: string, req: IncomingMessage): Promise<Reply> {
  const body = await readJson(req);
  const unknown = Object.keys(body).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0)
    throw new HttpError(400, `${unknown[0]}: unknown field (expected from, to, concurrency, rate, dry_run)`);
  const dryRun = body.dry_run ?? body.dryRun ?? false;
  if (typeof dryRun !== "boolean") throw new HttpError(400, "dry_run: expected true or false");
  const answer = await askBackfill(parts, name, { ...body, dryRun }, actorOf(req, parts.config));
  return "dry_run" in answer ? { ...json(200, answer), changedNothing: true } : json(202, answer);
}
