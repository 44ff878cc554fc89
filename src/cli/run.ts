import { ConfigError, EXIT } from "../errors.js";
import type { Runner } from "../runner.js";
import { startSidecar } from "../http/sidecar.js";
import { type CommonFlags, parseParams, prepare } from "./context.js";

export interface RunFlags extends CommonFlags {
  job?: string[];
  once?: boolean;
  param?: string[];
}

/** `runner run`: the daemon, or one pass with --once. Resolves with the exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const { runner } = await prepare(flags, true);
  const params = parseParams(flags.param);
  if (flags.param && flags.param.length > 0 && !flags.once) {
    throw new ConfigError(
      "--param: only meaningful with --once (use `runner trigger <job> --param k=v` for a running daemon)",
    );
  }
  const only = flags.job ?? [];
  for (const name of only) runner.registry.require(name);
  if (flags.once) return runOnce(runner, only, params);
  if (only.length > 0) {
    for (const job of runner.registry.list()) if (!only.includes(job.name)) runner.registry.remove(job.name);
  }
  return daemon(runner);
}

async function runOnce(runner: Runner, names: string[], params: Record<string, string>): Promise<number> {
  try {
    const outcomes = await runner.runOnce(names, params);
    const failed = outcomes.filter((outcome) => outcome.status !== "succeeded");
    runner.log.info(
      { runs: outcomes.length, failed: failed.length },
      "once: %d run(s), %d failed",
      outcomes.length,
      failed.length,
    );
    return failed.length > 0 ? EXIT.runFailed : EXIT.ok;
  } finally {
    await runner.stop();
  }
}

/** Graceful on the first SIGTERM/SIGINT, immediate on the second. */
async function daemon(runner: Runner): Promise<number> {
  let signals = 0;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        runner.log.warn({ signal }, "second signal: exiting now; running rows will be reaped as abandoned");
        process.exit(EXIT.runFailed);
      }
      runner.log.info(
        { signal, grace_seconds: runner.config.shutdownGraceSeconds },
        "stopping: waiting for running jobs",
      );
      runner.stop().then(resolve, resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  // Listen first: a busy port is a configuration error before anything starts, and /livez
  // answers while the database is still being reached.
  await startSidecar(runner);
  await runner.start();
  await stopped;
  return EXIT.ok;
}
