import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Config, leaseSeconds } from "../config.js";
import { ConfigError } from "../errors.js";
import { egressPolicy, syncDefinitions } from "../jobs/definitions.js";
import { wireNotifications } from "../observe/alerts.js";
import { createMetrics } from "../observe/metrics.js";
import { StateCache } from "../observe/state-cache.js";
import { backfillRequests } from "../run/backfill-requests.js";
import type { Daemon } from "../run/daemon.js";
import { unsetCredentials } from "./auth.js";
import { databaseProbe } from "./health.js";
import type { SidecarParts } from "./parts.js";
import { bounded } from "../util/deadline.js";
import { HttpError } from "./respond.js";
import { sidecarRoutes } from "./routes.js";
import { createHttpServer, type Route } from "./server.js";

export interface Sidecar {
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTP sidecar: /livez, /readyz, /metrics, the admin API and the trigger endpoints, plus the
 * metrics, alerts and pings they report. Listens before the daemon starts, so a busy port fails
 * fast (exit 2) and /livez answers during startup. Closed by the daemon's stop, last.
 */
export async function startSidecar(
  daemon: Daemon,
  extraRoutes: (parts: SidecarParts) => Route[] = () => [],
): Promise<Sidecar> {
  const { config, log, events, registry, liveness, scheduler } = daemon;
  const store = () => {
    const connected = daemon.store;
    if (!connected)
      throw new HttpError(503, `not connected to the database yet (runner is ${liveness.state})`);
    return connected;
  };
  const runningHere = (name: string) => daemon.executor?.runningCount(name) ?? 0;
  const nextRunAt = (name: string) => scheduler.nextRunAt(name);
  const cache = new StateCache(events);
  const metrics = createMetrics({
    events,
    liveness,
    registry,
    cache,
    nextRunAt,
    runningCount: runningHere,
    perJob: config.metricsPerJob,
  });
  const notifications = wireNotifications({
    events,
    onTick: (listener) => daemon.onTick(listener),
    config,
    metrics,
    log,
  });
  daemon.addLoopStep({ name: "state cache", run: () => cache.refresh(store()) });
  // Jobs registered over HTTP: loaded before scheduling starts (so they catch up like any other),
  // then followed at every loop, so every replica sees additions and deletions within one interval.
  const sync = syncDefinitions({
    store,
    registry,
    addJob: (job) => daemon.addJob(job),
    cancelJob: (name) => daemon.cancelJob(name),
    log,
    egress: egressPolicy(config),
  });
  daemon.onStart(sync);
  daemon.addLoopStep({ name: "job definitions", run: sync });
  // Backfill requests (POST /v1/admin/jobs/:name/backfill), worked on in the background.
  daemon.addLoopStep(
    backfillRequests({
      connected: () =>
        daemon.store && daemon.executor ? { store: daemon.store, executor: daemon.executor } : undefined,
      registry,
      log,
      leaseSeconds: leaseSeconds(config),
      limits: config,
      mayRun: () => config.jobsEnabled && daemon.state === "running",
    }),
  );
  const parts: SidecarParts = {
    config,
    registry,
    liveness,
    metrics,
    probe: databaseProbe(() => daemon.store?.sql),
    store,
    nextRunAt,
    listJobs: () => daemon.listScheduledJobs(),
    runNow: (name, params, trigger) => daemon.triggerJob(name, params, trigger),
    runningHere,
    cancelJob: (name) => daemon.cancelJob(name),
    syncDefinitions: sync,
  };
  const server = createHttpServer([...sidecarRoutes(parts), ...extraRoutes(parts)], log, {
    maxConnections: config.httpMaxConnections,
  });
  await listen(server, config);
  // Once listening, a server error (EMFILE on accept) would throw with no listener and take
  // the daemon and its running jobs down; the listener keeps accepting when it can.
  server.on("error", (error) => log.error({ err: error }, "http listener error: %s", error.message));
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.httpHost, port }, "http sidecar listening on %s:%d", config.httpHost, port);
  warnAboutCredentials(config, log);
  if (!config.schedulerApiAllowedHosts && config.runnerEnv !== "production")
    log.warn(
      "jobs registered over HTTP may call any host: SCHEDULER_API_ALLOWED_HOSTS is unset (in production such registration is refused)",
    );
  const close = async () => {
    // At most 2 s for notifications still going out; bounded clears its timer once they are done.
    await bounded(notifications.drain(), 2000);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
  };
  daemon.onStop(close);
  return { port, close };
}

function warnAboutCredentials(config: Config, log: Daemon["log"]): void {
  if (!config.adminUsername !== !config.adminPassword) {
    log.warn("admin endpoints answer 503: only one of ADMIN_BASIC_USERNAME and ADMIN_BASIC_PASSWORD is set");
    return;
  }
  if (config.adminUsername) return;
  const mode = unsetCredentials(config);
  if (mode === "open")
    log.warn("admin endpoints are open to anyone who reaches %s (ADMIN_AUTH=none)", config.httpHost);
  else if (mode === "local")
    log.warn(
      "admin endpoints are open to this machine only: ADMIN_BASIC_USERNAME/ADMIN_BASIC_PASSWORD are unset and HTTP_HOST is loopback",
    );
  else log.warn("admin endpoints answer 503 until ADMIN_BASIC_USERNAME and ADMIN_BASIC_PASSWORD are set");
}

/** Listen on HTTP_HOST:HTTP_PORT; a busy port or a bad host is a configuration error (exit 2). */
function listen(server: Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
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
}
