import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createPool } from "../../src/store/pool.js";
import { migrate } from "../../src/store/migrate.js";

describe("migrations", () => {
  it("apply once, record themselves, and are a no-op the second time, even from several processes at once", async () => {
    const url = inject("databaseUrl");
    const schema = `mig_${randomBytes(4).toString("hex")}`;
    const pools = Array.from({ length: 4 }, () => createPool(url, schema, 1));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool, schema)));
      expect(applied.flat()).toEqual(["001_init.sql"]);
      expect(await migrate(pools[0]!, schema)).toEqual([]);
      const rows = await pools[0]!`select version, name from runner_migrations`;
      expect(rows.map((r) => r.name)).toEqual(["001_init.sql"]);
      const [tables] = await pools[0]!`
        select count(*)::int as n from information_schema.tables
        where table_schema = ${schema} and table_name in ('job_runs', 'job_heartbeats', 'job_runners', 'job_state', 'job_triggers', 'job_definitions')`;
      expect(tables!.n).toBe(6);
      await pools[0]!.unsafe(`drop schema "${schema}" cascade`);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
