import { AuditStore } from "../store/audit.js";
import type { SidecarParts } from "./parts.js";
import { HttpError, json, type Reply } from "./respond.js";

/**
 * GET /v1/admin/audit?job=NAME&limit=N: the newest audit events first (limit 1..1000, default
 * 100), of one job or of all.
 */
export async function adminAudit(
  { store }: Pick<SidecarParts, "store">,
  query: URLSearchParams,
): Promise<Reply> {
  const raw = query.get("limit") ?? "100";
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000)
    throw new HttpError(400, "limit: expected an integer from 1 to 1000");
  const job = query.get("job") ?? undefined;
  if (job !== undefined && (job === "" || job.length > 200))
    throw new HttpError(400, "job: expected a job name");
  return json(200, { events: await new AuditStore(store().sql).list(job, limit) });
}
