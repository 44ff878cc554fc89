import { type Config, loadConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { loadJobs } from "../jobs/load.js";
import { Daemon } from "../run/daemon.js";
import { createLogger } from "../observe/log.js";
import { registerConfigSecrets } from "../util/secrets.js";

export interface CommonFlags {
  jobs?: string[];
  interval?: string;
}

/**
 * Config from the environment and flags, and a daemon whose registry holds every configured job.
 * Only the daemon logs to stdout; the other commands keep stdout for their table or JSON and log
 * to stderr, only what is wrong (warn and above) unless LOG_LEVEL asks for more.
 */
export async function prepare(
  flags: CommonFlags,
  logToStdout = false,
): Promise<{ config: Config; daemon: Daemon }> {
  const config = loadConfig(process.env, { jobs: flags.jobs, interval: flags.interval });
  registerConfigSecrets(config);
  const log = createLogger({
    level: logToStdout || process.env.LOG_LEVEL ? config.logLevel : "warn",
    format: config.logFormat,
    runnerId: config.runnerId,
    fd: logToStdout ? 1 : 2,
  });
  const daemon = new Daemon({ config, log });
  await loadJobs((job) => daemon.addJob(job), config);
  return { config, daemon };
}

/** `--param key=value` pairs into an object; a pair without "=" is a usage error naming it. */
export function parseParams(pairs: string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) problems.push(`--param ${JSON.stringify(pair)}: expected key=value`);
    else params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return params;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Write JSON for scripts, with dates as ISO strings. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
