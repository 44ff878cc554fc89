import type { z } from "zod";
import { int } from "./config/schemas.js";
import { type Variable, VARIABLES } from "./config/variables.js";
import { ConfigError } from "./errors.js";

export { GROUPS, type Variable, VARIABLES } from "./config/variables.js";

export type VariableName = keyof typeof VARIABLES;

/** A variable's parsed type; undefined when it may be unset (no default and no fallback). */
type Value<V> = V extends { schema: infer S extends z.ZodType }
  ? z.output<S> | (V extends { default: string } | { fallback: object } ? never : undefined)
  : never;

/** Everything the daemon needs to know, parsed once from the environment and the flags. */
export type Config = {
  -readonly [N in VariableName as (typeof VARIABLES)[N]["key"]]: Value<(typeof VARIABLES)[N]>;
};

/** Flags that override or add to the environment. */
export type ConfigFlags = { interval?: string; jobs?: string[] };

/**
 * Parse the environment and the flags into a Config.
 * Throws ConfigError with one line per bad variable or flag; secret values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): Config {
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES) as [string, Variable][]) {
    const raw = env[name];
    const value = raw === undefined || (raw === "" && spec.default !== "") ? spec.default : raw;
    if (value === undefined) {
      parsed[spec.key] = spec.fallback?.value();
      continue;
    }
    const result = spec.schema.safeParse(value);
    if (result.success) parsed[spec.key] = result.data;
    else {
      const got = spec.secret ? "" : ` (got ${JSON.stringify(value)})`;
      problems.push(`${name}: ${result.error.issues[0]?.message ?? "invalid value"}${got}`);
    }
  }
  const config = parsed as Config;
  if (flags.interval !== undefined) {
    const result = int(1, 3600).safeParse(flags.interval);
    if (result.success) config.intervalSeconds = result.data;
    else
      problems.push(
        `--interval: expected whole seconds from 1 to 3600 (got ${JSON.stringify(flags.interval)})`,
      );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  config.jobsFiles = [...config.jobsFiles, ...(flags.jobs ?? [])];
  return config;
}

/** The lease of a running row: long enough to survive two missed loops. */
export function leaseSeconds(config: Pick<Config, "intervalSeconds">): number {
  return Math.max(5, config.intervalSeconds * 3);
}
