import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sql } from "postgres";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { MIGRATIONS_DIR, migrate, NewerSchemaError, readMigrations } from "../../src/store/migrate.js";
import { createPool } from "../../src/store/pool.js";
import { testDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/process.js";

const url = inject("databaseUrl");
/** A migrated schema for the end-to-end check. */
const db = await testDatabase("mignew");

/** A pool on a fresh, empty schema, dropped when the test ends. */
function freshSchema(): { sql: Sql; schema: string } {
  const schema = `mig_${randomBytes(4).toString("hex")}`;
  const sql = createPool(url, schema, 1);
  onTestFinished(async () => {
    await sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await sql.end();
  });
  return { sql, schema };
}

/** A migrations folder holding the given files of sql/ plus extra ones. */
function migrationsDir(files: string[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-migrations-"));
  for (const file of files) copyFileSync(join(MIGRATIONS_DIR, file), join(dir, file));
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Every migration in sql/, in order (001_init.sql, 002_run_progress.sql, ...). */
const ALL = readMigrations().map((m) => m.name);

const recorded = async (sql: Sql) =>
  (await sql<{ name: string }[]>`select name from runner_migrations order by version`).map((r) => r.name);

describe("migrations", () => {
  it("apply once, record themselves, and are a no-op the second time, even from several processes at once", async () => {
    const schema = `mig_${randomBytes(4).toString("hex")}`;
    const pools = Array.from({ length: 4 }, () => createPool(url, schema, 1));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool, schema)));
      expect(applied.flat()).toEqual(ALL);
      expect(await migrate(pools[0]!, schema)).toEqual([]);
      expect(await recorded(pools[0]!)).toEqual(ALL);
      const [tables] = await pools[0]!`
        select count(*)::int as n from information_schema.tables
        where table_schema = ${schema} and table_name in ('job_runs', 'job_heartbeats', 'job_runners', 'job_state', 'job_triggers', 'job_definitions')`;
      expect(tables!.n).toBe(6);
      await pools[0]!.unsafe(`drop schema "${schema}" cascade`);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("bring a schema with runs up to date, older runs without progress", async () => {
    const { sql, schema } = freshSchema();
    await migrate(sql, schema, migrationsDir(["001_init.sql"]));
    await sql`insert into job_runs (job_name, trigger, status, runner_id) values ('old', 'manual', 'succeeded', 'r')`;
    expect(await migrate(sql, schema)).toEqual(ALL.slice(1));
    const [row] = await sql`select progress_done, progress_total from job_runs where job_name = 'old'`;
    expect(row).toEqual({ progress_done: null, progress_total: null });
  });

  it("apply numbers with a gap in order (a branch's 008 before 007 lands), and refuse a number used twice", async () => {
    const { sql, schema } = freshSchema();
    const gap = migrationsDir(["001_init.sql"], { "003_later.sql": "create table later (id int);" });
    expect(await migrate(sql, schema, gap)).toEqual(["001_init.sql", "003_later.sql"]);
    const filled = migrationsDir(["001_init.sql"], {
      "002_landed.sql": "create table landed (id int);",
      "003_later.sql": "create table later (id int);",
    });
    // 002 arrives after 003 was applied: applied once, by its number.
    expect(await migrate(sql, schema, filled)).toEqual(["002_landed.sql"]);
    expect(await recorded(sql)).toEqual(["001_init.sql", "002_landed.sql", "003_later.sql"]);
    const twice = migrationsDir(["001_init.sql"], { "002_a.sql": "select 1;", "002_b.sql": "select 1;" });
    expect(() => readMigrations(twice)).toThrow("migration 002_b.sql: number 2 is used twice");
  });

  it("refuse a schema a newer runner migrated, naming its unknown migrations and applying nothing", async () => {
    const { sql, schema } = freshSchema();
    const older = migrationsDir(["001_init.sql"]);
    const newer = migrationsDir(["001_init.sql"], { "002_marker.sql": "create table marker (id int);" });
    expect(await migrate(sql, schema, older)).toEqual(["001_init.sql"]);
    // A rolled-back deploy: the newer runner recorded migrations this code has never seen.
    await sql`insert into runner_migrations (version, name) values (98, '098_other.sql'), (99, '099_future.sql')`;

    const error = await migrate(sql, schema, newer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewerSchemaError);
    expect(error).toBeInstanceOf(ConfigError); // what the CLI turns into exit 2
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toContain("098_other.sql, 099_future.sql");
    expect(message).toContain("newer runner version");
    expect(message).toContain("002_marker.sql"); // the newest this code knows
    // The pending 002 was not applied: the refusal comes before any migration runs.
    expect(await recorded(sql)).toEqual(["001_init.sql", "098_other.sql", "099_future.sql"]);
    const [marker] = await sql`select to_regclass('marker') as t`;
    expect(marker!.t).toBeNull();
  });

  it("`runner migrate` against such a schema exits 2 with one line naming the migration", async () => {
    await db.sql`insert into runner_migrations (version, name) values (99, '099_future.sql')`;
    const result = await runCli(["migrate"], { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema });
    expect(result.code).toBe(2);
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("runner: "));
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^runner: schema "${db.schema}" was migrated by a newer runner version: .*099_future\\.sql`,
        ),
      ),
    ]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).not.toContain("migrations up to date");
  });
});
