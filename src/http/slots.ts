import { slotReport } from "../observe/slot-report.js";
import { WindowTooLargeError } from "../schedule/slot-fates.js";
import { parseWindow } from "../util/window.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply } from "./respond.js";

/**
 * GET /v1/admin/jobs/:name/slots?from=&to=: every planned instant of a job this replica runs in
 * the window (the last 24 h by default) with its fate and reason, ranges folded, and the verdict:
 * what `runner explain <job> --json` prints. A bad `from` or `to` is a 400 naming it.
 */
export async function adminSlots(
  { store, registry }: Pick<SidecarParts, "store" | "registry">,
  name: string,
  query: URLSearchParams,
): Promise<Reply> {
  const window = parseWindow({ from: query.get("from"), to: query.get("to") });
  if ("problems" in window) throw new HttpError(400, window.problems[0]!);
  const job = registry.get(name);
  if (!job) throw new HttpError(404, `unknown job "${name}"`);
  try {
    return json(200, await slotReport(store(), job, window));
  } catch (error) {
    if (error instanceof WindowTooLargeError) throw new HttpError(400, `from/to: ${error.message}`);
    throw error;
  }
}
