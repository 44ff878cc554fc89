import type { AuditAction } from "../store/audit.js";
import { AuditStore } from "../store/audit.js";
import { actorOf } from "./actor.js";
import type { SidecarParts } from "./parts.js";
import type { Route } from "./server.js";

/** The reply fields worth keeping with an event (never a definition's headers or a body). */
function details(action: AuditAction, body: unknown, location: string | undefined): Record<string, unknown> {
  const reply = (body ?? {}) as Record<string, unknown>;
  // The console's form answers 303 to the run's page: /runs/<id>. Its backfill form's 303 carries
  // the same body as the JSON route's 202.
  if (action === "trigger")
    return { run_id: reply.run_id ?? location?.match(/^\/runs\/(\d+)$/)?.[1] ?? null };
  if (action === "register") {
    const job = (reply.job ?? {}) as Record<string, unknown>;
    return { schedule: job.schedule ?? null, timezone: job.timezone ?? null, source: job.source ?? null };
  }
  if (action === "delete") return { persisted: reply.persisted ?? false };
  if (action === "backfill") {
    const { backfill_id, from, to, concurrency, rate } = reply;
    return { backfill_id, from, to, concurrency, rate };
  }
  return {};
}

/**
 * A state-changing route whose success (a 2xx or the page's 303) is an audit event: the caller
 * (actorOf: the Basic user, internal-secret, anonymous), the job (the path's, or the registered
 * job's) and what the answer says (the run id, the schedule). A refused request is no event.
 */
export function audited(
  parts: Pick<SidecarParts, "store" | "config">,
  action: AuditAction,
  handle: Route["handle"],
): Route["handle"] {
  return async (req, params, query) => {
    const reply = await handle(req, params, query);
    // A dry run changes nothing: no event.
    if (reply.status >= 400 || reply.changedNothing) return reply;
    const registered = ((reply.body ?? {}) as { job?: { name?: string } }).job?.name;
    await new AuditStore(parts.store().sql).record({
      actor: actorOf(req, parts.config),
      action,
      jobName: params.name ?? registered ?? null,
      details: details(action, reply.body, reply.headers?.location),
    });
    return reply;
  };
}
