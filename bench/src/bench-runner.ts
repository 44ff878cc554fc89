import type { Sql } from "postgres";
import type { Daemon } from "../../dist/run/daemon.js";
import type { Runner } from "../../dist/runner.js";

/**
 * What every runner-side worker sets up: a pool on a migrated schema of its own and a Runner on
 * it that logs nothing (logging is not what is measured). Imported on demand, so a baseline
 * process that never calls these loads none of runner's code.
 */
export async function migratedPool(url: string, schema: string): Promise<Sql> {
  const { createPool } = await import("../../dist/store/pool.js");
  const { migrate } = await import("../../dist/store/migrate.js");
  const sql = createPool(url, schema, 10);
  await migrate(sql, schema);
  return sql;
}

async function silentOptions(sql: Sql, schema: string, env: Record<string, string>) {
  const { default: pino } = await import("pino");
  const { loadConfig } = await import("../../dist/config.js");
  const config = loadConfig({ DATABASE_SCHEMA: schema, RUN_RETENTION_DAYS: "0", ...env });
  return { config, sql, log: pino({ level: "silent" }) };
}

/** The public in-process API, as a user's program would use it. */
export async function silentRunner(sql: Sql, schema: string, env: Record<string, string>): Promise<Runner> {
  const { Runner } = await import("../../dist/runner.js");
  return new Runner(await silentOptions(sql, schema, env));
}

/** The engine behind Runner and the CLI, for a worker that also starts the HTTP sidecar. */
export async function silentDaemon(sql: Sql, schema: string, env: Record<string, string>): Promise<Daemon> {
  const { Daemon } = await import("../../dist/run/daemon.js");
  return new Daemon(await silentOptions(sql, schema, env));
}
