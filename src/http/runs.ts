import { OutputStore } from "../store/output.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply } from "./respond.js";

/** A job_runs id: digits only, so nothing else reaches the query (and a bigint never overflows). */
function runId(text: string): string {
  if (!/^[1-9]\d{0,17}$/.test(text)) throw new HttpError(400, "run id: expected a number");
  return text;
}

/** A whole number from `min` to `max`, or the default when absent. */
function bounded(query: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = query.get(key);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new HttpError(400, `${key}: expected an integer from ${min} to ${max}`);
  return value;
}

/** GET /v1/admin/runs/:id: the run's row, with how many output lines it keeps. */
export async function adminRun({ store }: Pick<SidecarParts, "store">, id: string): Promise<Reply> {
  const run = await new OutputStore(store().sql).run(runId(id));
  if (!run) throw new HttpError(404, `run ${id} not found`);
  return json(200, { run });
}

/**
 * GET /v1/admin/runs/:id/logs?after=SEQ&limit=N: the run's kept output, oldest first, the lines
 * numbered above `after` (default 0), at most `limit` (1..5000, default 1000). A client follows
 * a running run by asking again with the last seq it got.
 */
export async function adminRunLogs(
  { store }: Pick<SidecarParts, "store">,
  id: string,
  query: URLSearchParams,
): Promise<Reply> {
  const output = new OutputStore(store().sql);
  const run = await output.run(runId(id));
  if (!run) throw new HttpError(404, `run ${id} not found`);
  const after = bounded(query, "after", 0, 0, 2_147_483_647);
  const limit = bounded(query, "limit", 1000, 1, 5000);
  const lines = await output.lines(runId(id), after, limit);
  return json(200, { run_id: run.id, status: run.status, lines });
}
