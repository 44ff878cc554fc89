import { recordBackfills } from "./audit.js";
import { ConfigError, EXIT } from "../errors.js";
import type { Daemon } from "../run/daemon.js";
import { startSidecar } from "../http/sidecar.js";
import { describeUrl } from "../store/pool.js";
import { type CommonFlags, parseParams, prepare } from "./context.js";

export interface RunFlags extends CommonFlags {
  job?: string[];
  once?: boolean;
  param?: string[];
}

/** `runner run`: the daemon, or one pass with --once. Resolves with the exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const { daemon } = await prepare(flags, true);
  const params = parseParams(flags.param);
  if (flags.param && flags.param.length > 0 && !flags.once) {
    throw new ConfigError(
      "--param: only meaningful with --once (use `runner trigger <job> --param k=v` for a running daemon)",
    );
  }
  const only = flags.job ?? [];
  for (const name of only) daemon.registry.require(name);
  logDatabase(daemon);
  if (flags.once) return runOnce(daemon, only, params);
  if (only.length > 0) {
    for (const job of daemon.registry.list()) if (!only.includes(job.name)) daemon.registry.remove(job.name);
  }
  return serve(daemon);
}

/** Which database this process uses, once at startup: host, port, name and schema, never the password. */
function logDatabase(daemon: Daemon): void {
  const { databaseUrl, databaseSchema } = daemon.config;
  const database = databaseUrl ? describeUrl(databaseUrl) : "the embedded PostgreSQL under ./.runner";
  daemon.log.info({ database, schema: databaseSchema }, "database %s, schema %s", database, databaseSchema);
}

async function runOnce(daemon: Daemon, names: string[], params: Record<string, string>): Promise<number> {
  // Ctrl-C reaches the runner alone (the embedded server has a session of its own): stop gracefully,
  // once connected, so the stop closes the database the connect opened.
  const connecting = daemon.connect();
  void stopOnSignal(daemon, connecting);
  try {
    const { store } = await connecting;
    const outcomes = await daemon.runOnce(names, params);
    // Named jobs run now whatever their schedule: a backfill, once it has run.
    if (names.length > 0) await recordBackfills(store.sql, names, params);
    const failed = outcomes.filter((outcome) => outcome.status !== "succeeded");
    daemon.log.info(
      { runs: outcomes.length, failed: failed.length },
      "once: %d run(s), %d failed",
      outcomes.length,
      failed.length,
    );
    return failed.length > 0 ? EXIT.runFailed : EXIT.ok;
  } finally {
    await daemon.stop();
  }
}

/**
 * Graceful on the first SIGTERM/SIGINT, immediate on the second. A signal while `starting` waits
 * for it to end first, so the stop closes what the start opened (the embedded server included).
 * Resolves once stopped.
 */
function stopOnSignal(daemon: Daemon, starting: Promise<unknown>): Promise<void> {
  let signals = 0;
  return new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        daemon.log.warn({ signal }, "second signal: exiting now; running rows will be reaped as abandoned");
        process.exit(EXIT.runFailed);
      }
      daemon.log.info(
        { signal, grace_seconds: daemon.config.shutdownGraceSeconds },
        "stopping: waiting for running jobs",
      );
      starting
        .catch(() => {})
        .then(() => daemon.stop())
        .then(resolve, resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

async function serve(daemon: Daemon): Promise<number> {
  // Listen first: a busy port is a configuration error before anything starts, and /livez
  // answers while the database is still being reached.
  const starting = (async () => {
    await startSidecar(daemon);
    await daemon.start();
  })();
  const stopped = stopOnSignal(daemon, starting);
  await starting;
  await stopped;
  return EXIT.ok;
}
