import type { Logger } from "pino";
import type { Sql } from "postgres";
import type { Config } from "../config.js";
import { DatabaseUnreachableError, errorMessage } from "../errors.js";
import { cannotStart } from "./embedded-paths.js";
import { connect, describeUrl, refusal } from "./pool.js";
import { startEmbedded } from "./embedded.js";
import { migrate } from "./migrate.js";

export interface OpenDatabase {
  sql: Sql;
  close(): Promise<void>;
  /** The migrations this call applied (none when the schema was up to date, or migrate: false). */
  applied: string[];
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL under ./.runner/.
 * Retries an unreachable server for the startup window (DatabaseUnreachableError after it).
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  options: { migrate?: boolean; max?: number } = {},
): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let stopEmbedded = async () => {};
  if (!url) {
    const embedded = await startEmbedded(".runner", (line) =>
      log.debug({ postgres: line }, "embedded postgres"),
    ).catch((error) => {
      // Every failure to start it is one line saying what to do (exit 3), never a stack trace.
      if (error instanceof DatabaseUnreachableError) throw error;
      throw cannotStart(errorMessage(error), "check the permissions of ./.runner");
    });
    url = embedded.url;
    stopEmbedded = embedded.stop;
    for (const note of embedded.notes)
      log.info({ data_dir: embedded.dataDir }, "embedded PostgreSQL: %s", note);
    log.info(
      { database: describeUrl(url), data_dir: embedded.dataDir },
      "using the embedded PostgreSQL (set DATABASE_URL to use your own server)",
    );
  }
  const sql = await connect({
    url,
    schema: config.databaseSchema,
    startupTimeoutSeconds: config.databaseStartupTimeoutSeconds,
    max: options.max,
    onRetry: (attempt, delayMs, reason) =>
      log.warn(
        { database: describeUrl(url), attempt, retry_in_ms: delayMs },
        "database unreachable: %s",
        reason,
      ),
  }).catch(async (error) => {
    await stopEmbedded();
    throw error;
  });
  const close = async () => {
    // Queries still going get 2 s; then the embedded server, if this process is the one to stop it.
    await sql.end({ timeout: 2 });
    await stopEmbedded();
  };
  let applied: string[] = [];
  if (options.migrate !== false) {
    try {
      applied = await migrate(sql, config.databaseSchema);
      if (applied.length > 0) log.info({ applied, schema: config.databaseSchema }, "migrations applied");
    } catch (error) {
      // A refused or failed migration must not leave the embedded server running behind the exit.
      await close().catch(() => {});
      // No permission to create the schema or its tables: final, like a refused connection.
      throw refusal(error, url, `refused to migrate schema "${config.databaseSchema}"`) ?? error;
    }
  }
  return { sql, close, applied };
}
