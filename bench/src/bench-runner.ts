import type { Sql } from "postgres";
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

export async function silentRunner(sql: Sql, schema: string, env: Record<string, string>): Promise<Runner> {
  const { default: pino } = await import("pino");
  const { loadConfig } = await import("../../dist/config.js");
  const { Runner } = await import("../../dist/runner.js");
  const config = loadConfig({ DATABASE_SCHEMA: schema, RUN_RETENTION_DAYS: "0", ...env });
  return new Runner({ config, sql, log: pino({ level: "silent" }) });
}
