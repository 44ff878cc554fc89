import type { Metrics } from "../observe/metrics.js";
import type { Runner } from "../runner.js";
import { adminRuns, adminStatus } from "./admin.js";
import { requireAdmin, requireTrigger } from "./auth.js";
import { type databaseProbe, livez, readyz } from "./health.js";
import { deleteJob, lastResult, listJobs, registerJob } from "./scheduler-api.js";
import type { Route } from "./server.js";
import { statusPage, triggerFromPage } from "./status-page.js";
import { triggerJob } from "./trigger.js";

const NAME = "(?<name>[^/]+)";
const path = (pattern: string) => new RegExp(`^${pattern.replace(":name", NAME)}$`);

export interface RouteParts {
  metrics: Metrics;
  probe: ReturnType<typeof databaseProbe>;
  /** Brings this replica's registry in step with job_definitions (after a registration). */
  sync: () => Promise<void>;
}

/**
 * Every route of the sidecar (CONTRACT §6) with its auth: none for the probes and /metrics,
 * Basic for /v1/admin, /api/v1 and the status page, the internal secret or Basic for the trigger.
 */
export function sidecarRoutes(runner: Runner, { metrics, probe, sync }: RouteParts): Route[] {
  const { config } = runner;
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
    route("GET", "/livez", () => livez(runner)),
    route("GET", "/readyz", () => readyz(runner, probe)),
    route("GET", "/metrics", async () => ({
      status: 200,
      raw: true,
      body: await metrics.render(),
      headers: { "content-type": metrics.registry.contentType },
    })),
    route(
      "GET",
      "/v1/admin/jobs/status",
      admin(() => adminStatus(runner)),
    ),
    route(
      "GET",
      "/v1/admin/jobs/:name/runs",
      admin((_req, p, q) => adminRuns(runner, p.name!, q)),
    ),
    route("POST", "/v1/jobs/:name/trigger", (req, p) => {
      requireTrigger(req, config);
      return triggerJob(runner, p.name!, req);
    }),
    route(
      "GET",
      "/api/v1/scheduler/jobs",
      admin(() => listJobs(runner)),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs",
      admin((req) => registerJob(runner, req, sync)),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs/:name/trigger",
      admin((req, p) => triggerJob(runner, p.name!, req)),
    ),
    route(
      "GET",
      "/api/v1/scheduler/jobs/:name/last-result",
      admin((_req, p) => lastResult(runner, p.name!)),
    ),
    route(
      "DELETE",
      "/api/v1/scheduler/jobs/:name",
      admin((_req, p) => deleteJob(runner, p.name!)),
    ),
    route(
      "GET",
      "/",
      admin((_req, _p, q) => {
        const triggered = q.get("triggered");
        return statusPage(runner, triggered ? `Started ${triggered} (run ${q.get("run")})` : undefined);
      }),
    ),
    route(
      "POST",
      "/ui/jobs/:name/trigger",
      admin((req, p) => triggerFromPage(runner, p.name!, req)),
    ),
  ];
}
