import type { IncomingMessage } from "node:http";
import { slotsToRun } from "../run/backfill.js";
import { slotsInWindow } from "../schedule/backfill-slots.js";
import { MAX_OPEN_BACKFILLS } from "../store/store.js";
import { parseBackfill } from "../util/backfill-input.js";
import { iso } from "../util/iso.js";
import { actorOf } from "./actor.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply, readJson } from "./respond.js";

const FIELDS = ["from", "to", "concurrency", "rate", "dry_run", "dryRun"];

/**
 * POST /v1/admin/jobs/:name/backfill with `{"from", "to", "concurrency"?, "rate"?, "dry_run"?}`:
 * a backfill request every replica that has the job works on (run/backfill-requests.ts), 202 with
 * its id; with `dry_run`, 200 with the slots it would run and nothing stored. Behind the CSRF,
 * admin and audit wrappers (routes.ts).
 */
export async function backfillJob(
  parts: Pick<SidecarParts, "store" | "registry" | "config">,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  const body = await readJson(req);
  const unknown = Object.keys(body).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0)
    throw new HttpError(400, `${unknown[0]}: unknown field (expected from, to, concurrency, rate, dry_run)`);
  const dryRun = body.dry_run ?? body.dryRun ?? false;
  if (typeof dryRun !== "boolean") throw new HttpError(400, "dry_run: expected true or false");
  const input = parseBackfill(body);
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
  const window = { job_name: name, from: iso(input.from), to: iso(input.to) };
  if (dryRun) {
    const todo = await slotsToRun(store, { job, from: input.from, to: input.to, slots: found.slots });
    return json(200, {
      ...window,
      dry_run: true,
      slots: todo.map((slot) => slot.toISOString()),
      already_succeeded: found.slots.length - todo.length,
    });
  }
  const id = await store.backfills.request(name, input, actorOf(req, parts.config));
  if (id === null)
    throw new HttpError(
      409,
      `${MAX_OPEN_BACKFILLS} backfills of ${name} are open already; wait for one to finish`,
    );
  return json(202, {
    backfill_id: id,
    ...window,
    concurrency: input.concurrency,
    rate: input.rate,
    slots: found.slots.length,
  });
}
