import { readFileSync, readdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";

/** sql/ ships beside dist/ in the package. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "sql");

interface Migration {
  version: number;
  name: string;
  text: string;
}

/** Numbered files, in order; a gap or a duplicate number is an error, not a silent skip. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort();
  return files.map((file, index) => {
    const version = Number(file.split("_")[0]);
    if (version !== index + 1) throw new Error(`migration ${file}: expected number ${index + 1}`);
    return { version, name: file, text: readFileSync(resolve(dir, file), "utf8") };
  });
}

/**
 * Apply pending migrations in one transaction under an advisory lock keyed by the schema, so
 * replicas starting together wait for each other and the second finds nothing to do.
 * Returns the names of the files it applied.
 */
export async function migrate(sql: Sql, schema: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = readMigrations(dir);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${`runner.migrate.${schema}`}))`;
    await tx.unsafe(`create schema if not exists "${schema}"`);
    await tx`create table if not exists runner_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const rows = await tx<{ version: number }[]>`select version from runner_migrations`;
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
