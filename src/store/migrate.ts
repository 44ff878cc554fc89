import { readFileSync, readdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";
import { ConfigError } from "../errors.js";
import { VERSION } from "../version.js";

/** sql/ ships beside dist/ in the package. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "sql");

interface Migration {
  version: number;
  name: string;
  text: string;
}

/**
 * Numbered files, in order; a duplicate number is an error, not a silent skip. A gap is allowed:
 * work in progress owns its number before the numbers below it have landed (sql/008 before 007),
 * and each migration is applied once by its number, whatever came before it.
 */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort();
  let previous = 0;
  return files.map((file) => {
    const version = Number(file.split("_")[0]);
    if (version <= previous) throw new Error(`migration ${file}: number ${version} is used twice`);
    previous = version;
    return { version, name: file, text: readFileSync(resolve(dir, file), "utf8") };
  });
}

/**
 * The schema holds migrations this code does not have: a newer runner migrated it (and this is a
 * rolled-back deploy, or an old replica still starting). Running against a schema whose meaning we
 * do not know could corrupt it, so the runner stops instead, as a configuration problem (exit 2).
 */
export class NewerSchemaError extends ConfigError {
  constructor(
    readonly schema: string,
    readonly unknown: readonly string[],
    readonly newestKnown: string | undefined,
  ) {
    super(
      `schema "${schema}" was migrated by a newer runner version: it has migration(s) ${unknown.join(", ")}, ` +
        `which runner ${VERSION} does not know (its newest is ${newestKnown ?? "none"}); ` +
        "run that newer version, or restore the database from before it was migrated",
    );
    this.name = "NewerSchemaError";
  }
}

/**
 * Apply pending migrations in one transaction under an advisory lock keyed by the schema, so
 * replicas starting together wait for each other and the second finds nothing to do.
 * Refuses (NewerSchemaError, nothing applied) when the schema records a migration not in `dir`.
 * Returns the names of the files it applied.
 */
export async function migrate(sql: Sql, schema: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = readMigrations(dir);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${`runner.migrate.${schema}`}))`;
    await tx.unsafe(`create schema if not exists "${schema}"`);
    await tx`create table if not exists runner_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const rows = await tx<{ version: number; name: string }[]>`
      select version, name from runner_migrations order by version`;
    const known = new Set(migrations.map((migration) => migration.version));
    const unknown = rows.filter((row) => !known.has(row.version)).map((row) => row.name);
    if (unknown.length > 0) throw new NewerSchemaError(schema, unknown, migrations.at(-1)?.name);
    const applied = new Set(rows.map((row) => row.version));
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx`insert into runner_migrations (version, name) values (${migration.version}, ${migration.name})`;
      await tx.unsafe(migration.text);
      done.push(migration.name);
    }
    return done;
  });
}
