import type { AddressInfo } from "node:net";
import { wireNotifications } from "./alerts.js";
import { syncDefinitions } from "./definitions.js";
import { ConfigError } from "./errors.js";
import { adminRuns, adminStatus } from "./http/admin.js";
import { requireAdmin, requireTrigger } from "./http/auth.js";
import { databaseProbe, livez, readyz } from "./http/health.js";

import { deleteJob, lastResult, listJobs, registerJob } from "./http/scheduler-api.js";
import { statusPage, triggerFromPage } from "./http/status-page.js";
import { createHttpServer, type Route } from "./http/server.js";
import { triggerJob } from "./http/trigger.js";
import { registerSecret } from "./log.js";
import { createMetrics } from "./metrics.js";
import type { Runner } from "./runner.js";
import { StateCache } from "./state-cache.js";

export interface Sidecar {
  port: number;
  close(): Promise<void>;
}

const NAME = "(?<name>[^/]+)";

/**
 * The HTTP sidecar: /livez, /readyz, /metrics, the admin API and the trigger endpoints, plus the
 * metrics, alerts and pings they report. Listens before the runner starts, so a busy port fails
 * fast (exit 2) and /livez answers during startup. Closed by the runner's stop, last.
 */
export async function startSidecar(
  runner: Runner,
  extraRoutes: (runner: Runner) => Route[] = () => [],
): Promise<Sidecar> {
  const { config, log } = runner;
  registerSecret(config.adminPassword);
  registerSecret(config.internalSecret);
  const cache = new StateCache(runner.events);
  const metrics = createMetrics(runner, cache);
  const notifications = wireNotifications(runner, config, metrics, log);
  runner.addLoopStep({ name: "state cache", run: () => cache.refresh(runner.store!) });
  // Jobs registered over HTTP: loaded before scheduling starts (so they catch up like any other),
  // then followed at every loop, so every replica sees additions and deletions within one interval.
  const sync = syncDefinitions(runner);
  runner.onStart(sync);
  runner.addLoopStep({ name: "job definitions", run: sync });
  const probe = databaseProbe(() => runner.store?.sql);
  const admin =
    (handler: Route["handle"]): Route["handle"] =>
    (req, params, query) => {
      requireAdmin(req, config);
      return handler(req, params, query);
    };
  const trigger: Route["handle"] = (req, params) => {
    requireTrigger(req, config);
    return triggerJob(runner, params.name!, req);
  };
  const routes: Route[] = [
    { method: "GET", path: /^\/livez$/, handle: () => livez(runner) },
    { method: "GET", path: /^\/readyz$/, handle: () => readyz(runner, probe) },
    {
      method: "GET",
      path: /^\/metrics$/,
      handle: async () => ({
        status: 200,
        raw: true,
        body: await metrics.render(),
        headers: { "content-type": metrics.registry.contentType },
      }),
    },
    { method: "GET", path: /^\/v1\/admin\/jobs\/status$/, handle: admin(() => adminStatus(runner)) },
    {
      method: "GET",
      path: new RegExp(`^/v1/admin/jobs/${NAME}/runs$`),
      handle: admin((_req, p, q) => adminRuns(runner, p.name!, q)),
    },
    { method: "POST", path: new RegExp(`^/v1/jobs/${NAME}/trigger$`), handle: trigger },
    { method: "GET", path: /^\/api\/v1\/scheduler\/jobs$/, handle: admin(() => listJobs(runner)) },
    {
      method: "POST",
      path: new RegExp(`^/api/v1/scheduler/jobs/${NAME}/trigger$`),
      handle: admin((req, p) => triggerJob(runner, p.name!, req)),
    },
    {
      method: "GET",
      path: new RegExp(`^/api/v1/scheduler/jobs/${NAME}/last-result$`),
      handle: admin((_req, p) => lastResult(runner, p.name!)),
    },
    {
      method: "POST",
      path: /^\/api\/v1\/scheduler\/jobs$/,
      handle: admin((req) => registerJob(runner, req, sync)),
    },
    {
      method: "DELETE",
      path: new RegExp(`^/api/v1/scheduler/jobs/${NAME}$`),
      handle: admin((_req, p) => deleteJob(runner, p.name!)),
    },
    {
      method: "GET",
      path: /^\/$/,
      handle: admin((_req, _p, q) =>
        statusPage(
          runner,
          q.get("triggered") ? `Started ${q.get("triggered")} (run ${q.get("run")})` : undefined,
        ),
      ),
    },
    {
      method: "POST",
      path: new RegExp(`^/ui/jobs/${NAME}/trigger$`),
      handle: admin((req, p) => triggerFromPage(runner, p.name!, req)),
    },
    ...extraRoutes(runner),
  ];
  const server = createHttpServer(routes, log);
  await new Promise<void>((resolve, reject) => {
    const onListenError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        reject(new ConfigError(`HTTP_PORT: port ${config.httpPort} on ${config.httpHost} is already in use`));
      else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
        reject(new ConfigError(`HTTP_HOST: cannot listen on ${config.httpHost} (${error.code})`));
      else reject(error);
    };
    server.once("error", onListenError);
    server.listen(config.httpPort, config.httpHost, () => {
      server.off("error", onListenError);
      resolve();
    });
  });
  // Once listening, a server error (EMFILE on accept) would throw with no listener and take
  // the daemon and its running jobs down; the listener keeps accepting when it can.
  server.on("error", (error) => log.error({ err: error }, "http listener error: %s", error.message));
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.httpHost, port }, "http sidecar listening on %s:%d", config.httpHost, port);
  if (!config.adminUsername !== !config.adminPassword) {
    log.warn("admin endpoints answer 503: only one of ADMIN_BASIC_USERNAME and ADMIN_BASIC_PASSWORD is set");
  } else if (config.runnerEnv !== "production" && !config.adminUsername) {
    log.warn(
      "admin endpoints are open: ADMIN_BASIC_USERNAME/ADMIN_BASIC_PASSWORD are unset (in production they would answer 503)",
    );
  }
  const close = async () => {
    await Promise.race([notifications.drain(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
  };
  runner.onStop(close);
  return { port, close };
}
