import type { IncomingMessage } from "node:http";
import { adminRuns, adminStatus } from "./admin.js";
import { adminAudit } from "./audit.js";
import { audited } from "./audited.js";
import { backfillJob } from "./backfill.js";
import { backfillFromForm, pauseFromForm, resumeFromForm, triggerFromForm } from "./console/actions.js";
import { jobPage } from "./console/job-page.js";
import { overview } from "./console/overview.js";
import { runPage } from "./console/run-page.js";
import { timed } from "./console/timing.js";
import { requireAdmin, requireTrigger } from "./auth.js";
import { pageTokens, refuseCrossSite, requireJsonBody } from "./csrf.js";
import { livez, readyz } from "./health.js";
import type { SidecarParts } from "./parts.js";
import { deleteJob, lastResult, listJobs, registerJob } from "./scheduler-api.js";
import type { Route } from "./server.js";
import { pauseJob, resumeJob } from "./pause.js";
import { adminRun, adminRunLogs } from "./runs.js";
import { adminSlots } from "./slots.js";
import { triggerJob } from "./trigger.js";

const NAME = "(?<name>[^/]+)";
const path = (pattern: string) => new RegExp(`^${pattern.replace(":name", NAME)}$`);

/**
 * Every route of the sidecar (docs/contract.md#http) with its auth: none for the probes and
 * /metrics, Basic for /v1/admin, /api/v1 and the console, the internal secret or Basic for the
 * trigger. Routes that change state refuse cross-site requests (csrf.ts).
 */
export function sidecarRoutes(parts: SidecarParts): Route[] {
  const { config, metrics } = parts;
  const tokens = pageTokens(config);
  const admin =
    (handler: Route["handle"]): Route["handle"] =>
    (req, params, query) => {
      requireAdmin(req, config);
      return handler(req, params, query);
    };
  // State-changing JSON routes: a browser's cross-site request is refused before anything else,
  // and only application/json is read (docs/contract.md#http).
  const changes =
    (check: (req: IncomingMessage) => void, handler: Route["handle"]): Route["handle"] =>
    (req, params, query) => {
      refuseCrossSite(req);
      check(req);
      requireJsonBody(req);
      return handler(req, params, query);
    };
  const asAdmin = (req: IncomingMessage) => requireAdmin(req, config);
  const asTrigger = (req: IncomingMessage) => requireTrigger(req, config);
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
    route(
      "GET",
      "/v1/admin/jobs/:name/slots",
      admin((_req, p, q) => adminSlots(parts, p.name!, q)),
    ),
    route(
      "GET",
      "/v1/admin/runs/(?<id>[^/]+)",
      admin((_req, p) => adminRun(parts, p.id!)),
    ),
    route(
      "GET",
      "/v1/admin/runs/(?<id>[^/]+)/logs",
      admin((_req, p, q) => adminRunLogs(parts, p.id!, q)),
    ),
    route(
      "GET",
      "/v1/admin/audit",
      admin((_req, _p, q) => adminAudit(parts, q)),
    ),
    route(
      "POST",
      "/v1/admin/jobs/:name/pause",
      changes(asAdmin, (req, p) => pauseJob(parts, p.name!, req)),
    ),
    route(
      "POST",
      "/v1/admin/jobs/:name/resume",
      changes(asAdmin, (req, p) => resumeJob(parts, p.name!, req)),
    ),
    route(
      "POST",
      "/v1/admin/jobs/:name/backfill",
      changes(
        asAdmin,
        audited(parts, "backfill", (req, p) => backfillJob(parts, p.name!, req)),
      ),
    ),
    route(
      "POST",
      "/v1/jobs/:name/trigger",
      changes(
        asTrigger,
        audited(parts, "trigger", (req, p) => triggerJob(parts, p.name!, req)),
      ),
    ),
    route(
      "GET",
      "/api/v1/scheduler/jobs",
      admin(() => listJobs(parts)),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs",
      changes(
        asAdmin,
        audited(parts, "register", (req) => registerJob(parts, req)),
      ),
    ),
    route(
      "POST",
      "/api/v1/scheduler/jobs/:name/trigger",
      changes(
        asAdmin,
        audited(parts, "trigger", (req, p) => triggerJob(parts, p.name!, req)),
      ),
    ),
    route(
      "GET",
      "/api/v1/scheduler/jobs/:name/last-result",
      admin((_req, p) => lastResult(parts, p.name!)),
    ),
    route(
      "DELETE",
      "/api/v1/scheduler/jobs/:name",
      changes(
        asAdmin,
        audited(parts, "delete", (_req, p) => deleteJob(parts, p.name!)),
      ),
    ),
    // The console (src/http/console/): admin auth like /v1/admin; each form post refuses
    // cross-site requests and checks the page's token (console/actions.ts).
    route("GET", "/", admin(timed((_req, _p, q) => overview(parts, q, tokens.issue())))),
    route("GET", "/jobs/:name", admin(timed((_req, p, q) => jobPage(parts, p.name!, q, tokens.issue())))),
    route("GET", "/runs/(?<id>[^/]+)", admin(timed((_req, p, q) => runPage(parts, p.id!, q)))),
    route(
      "POST",
      "/ui/jobs/:name/trigger",
      admin(audited(parts, "trigger", (req, p) => triggerFromForm(parts, tokens, p.name!, req))),
    ),
    route(
      "POST",
      "/ui/jobs/:name/pause",
      admin((req, p) => pauseFromForm(parts, tokens, p.name!, req)),
    ),
    route(
      "POST",
      "/ui/jobs/:name/resume",
      admin((req, p) => resumeFromForm(parts, tokens, p.name!, req)),
    ),
    route(
      "POST",
      "/ui/jobs/:name/backfill",
      admin(audited(parts, "backfill", (req, p) => backfillFromForm(parts, tokens, p.name!, req))),
    ),
  ];
}
