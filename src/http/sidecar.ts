import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { wireNotifications } from "../observe/alerts.js";
import type { Config } from "../config.js";
import { syncDefinitions } from "../jobs/definitions.js";
import { ConfigError } from "../errors.js";
import { databaseProbe } from "./health.js";
import { sidecarRoutes } from "./routes.js";
import { createHttpServer, type Route } from "./server.js";
import { registerSecret } from "../observe/log.js";
import { createMetrics } from "../observe/metrics.js";
import type { Runner } from "../runner.js";
import { StateCache } from "../observe/state-cache.js";

export interface Sidecar {
  port: number;
  close(): Promise<void>;
}

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
  const routes = [...sidecarRoutes(runner, { metrics, probe, sync }), ...extraRoutes(runner)];
  const server = createHttpServer(routes, log);
  await listen(server, config);
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
    // Unref'd: once the notifications are out, this timer must not hold the exiting process for 2 s.
    await Promise.race([notifications.drain(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
  };
  runner.onStop(close);
  return { port, close };
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
