import { adminRuns, adminStatus } from "./admin.js";
import { requireAdmin, requireTrigger } from "./auth.js";
import { livez, readyz } from "./health.js";
import type { SidecarParts } from "./parts.js";
import { deleteJob, lastResult, listJobs, registerJob } from "./scheduler-api.js";
import type { Route } from "./server.js";
import { statusPage, triggerFromPage } from "./status-page.js";
import { triggerJob } from "./trigger.js";

const NAME = "(?<name>[^/]+)";
const path = (pattern: string) => new RegExp(`^${pattern.replace(":name", NAME)}$`);

/**
 * Every route of the sidecar (docs/contract.md#http) with its auth: none for the probes and
 * /metrics, Basic for /v1/admin, /api/v1 and the status page, the internal secret or Basic for the
 * trigger.
 */
export function sidecarRoutes(parts: SidecarParts): Route[] {
  const { config, metrics } = parts;
  const admin =
    (handler: Route["handle"]): Route["handle"] =>
    (req, params, query) => {
      requireAdmin(req, config);
      return handler(req, params, query);
    };
  const route = (method: string, pattern: string, handle: Route["handle"]): Route => ({
    method,
    path: path(pattern),
    handle,
  });
  return [
    route("GET", "/livez", () => livez(parts.liveness)),
    route("GET", "/readyz", () => readyz(parts)),
    route("GET", "/metrics", async () => ({
      status: 200,
      raw: true,
      body: await metrics.render(),
      headers: { "content-type": metrics.registry.contentType },
    })),
    route(
      "GET",
      "/v1/admin/jobs/status",
      admin(() => adminStatus(parts)),
    ),
    route(
      "GET",
      "/v1/admin/jobs/:name/runs",
      admin((_req, p, q) => adminRuns(parts, p.name!, q)),
    ),
    route("POST", "/v1/jobs/:name/trigger", (req, p) => {
      requireTrigger(req, config);
      return triggerJob(parts, p.name!, req);
    }),
    route(
      "GET",
      "/api/v1/scheduler/jobs",
      admin(() => listJobs(parts)),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs",
      admin((req) => registerJob(parts, req)),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs/:name/trigger",
      admin((req, p) => triggerJob(parts, p.name!, req)),
    ),
    route(
      "GET",
      "/api/v1/scheduler/jobs/:name/last-result",
      admin((_req, p) => lastResult(parts, p.name!)),
    ),
    route(
      "DELETE",
      "/api/v1/scheduler/jobs/:name",
      admin((_req, p) => deleteJob(parts, p.name!)),
    ),
    route(
      "GET",
      "/",
      admin((_req, _p, q) => {
        const triggered = q.get("triggered");
        return statusPage(parts, triggered ? `Started ${triggered} (run ${q.get("run")})` : undefined);
      }),
    ),
    route(
      "POST",
      "/ui/jobs/:name/trigger",
      admin((req, p) => triggerFromPage(parts, p.name!, req)),
    ),
  ];
}
