import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";
import { afterAll, inject } from "vitest";
import { createPool } from "../../src/store/pool.js";
import { migrate } from "../../src/store/migrate.js";

export interface TestDatabase {
  url: string;
  schema: string;
  /** A pool on the test's schema, already migrated. */
  sql: Sql;
}

/**
 * A fresh, migrated schema for the calling test file, dropped after it unless the file failed
 * (then it is kept for a look, named in the output).
 */
export async function testDatabase(prefix = "t"): Promise<TestDatabase> {
  const url = inject("databaseUrl");
  const schema = `${prefix}_${randomBytes(5).toString("hex")}`;
  const sql = createPool(url, schema, 5);
  await migrate(sql, schema);
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await admin.end({ timeout: 5 });
  });
  return { url, schema, sql };
}
