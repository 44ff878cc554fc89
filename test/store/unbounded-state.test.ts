import { describe, expect, it } from "vitest";
import { pruneRuns } from "../../src/jobs/builtin/prune-runs.js";
import { API_SOURCE, egressPolicy, syncDefinitions } from "../../src/jobs/definitions.js";
import { DefinitionLimitError, MAX_DEFINITION_BYTES, MAX_DEFINITIONS, Store } from "../../src/store/store.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner } from "../helpers/runner.js";

// Item 10: state that only grows. Deleted definitions were kept forever and every loop of every
// replica read all of their JSON; job_triggers outlived RUN_RETENTION_DAYS.
const db = await testDatabase("unbounded");
const store = new Store(db.sql, "r1", 30);
const definition = (name: string, padding = 0) => ({
  name,
  schedule: "@yearly",
  http: { method: "POST", url: "https://example.com/hook", body: "x".repeat(padding) },
});

/** A replica's definitions sync over a store that counts the definition JSON it reads. */
function replica() {
  const { runner, config } = testRunner(db.sql);
  const read = { definitions: 0 };
  const counting = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        if (Array.isArray(result))
          read.definitions += result.filter((row) => row && "definition" in row).length;
        return result;
      };
    },
  });
  const sync = syncDefinitions({
    store: () => counting,
    registry: runner.registry,
    addJob: (job) => runner.addJob(job),
    cancelJob: (name) => runner.cancelJob(name),
    log: runner.log,
    egress: egressPolicy(config),
  });
  return { runner, sync, read };
}

describe("unbounded state", () => {
  it("syncs by version: a loop reads the JSON of new or changed definitions only, and purges deleted ones", async () => {
    for (let i = 0; i < 30; i++)
      expect(await store.saveDefinition(`d${i}`, definition(`d${i}`, 4000))).toBe(true);
    for (let i = 0; i < 25; i++) await store.deleteDefinition(`d${i}`);
    const { runner, sync, read } = replica();
    await sync();
    expect(
      runner.registry
        .list()
        .filter((j) => j.source === API_SOURCE)
        .map((j) => j.name),
    ).toEqual(["d25", "d26", "d27", "d28", "d29"]);
    expect(read.definitions).toBe(5);
    // Ten more loops with nothing changed read no definition at all (before: 30 rows, 120 KB, each).
    for (let i = 0; i < 10; i++) await sync();
    expect(read.definitions).toBe(5);
    // A re-registered (changed) definition is read once, and replaces the job.
    await store.deleteDefinition("d29");
    await sync();
    expect(runner.registry.has("d29")).toBe(false);
    await store.saveDefinition("d29", { ...definition("d29"), schedule: "@monthly" });
    await sync();
    await sync();
    expect(read.definitions).toBe(6);
    expect(runner.registry.get("d29")?.schedule).toBe("@monthly");

    // Deleted more than an hour ago: purged by the next loop that sees a deleted row.
    await db.sql`update job_definitions set deleted_at = now() - interval '2 hours' where name < 'd2'`;
    await sync();
    const [counts] = await db.sql<{ n: number; deleted: number }[]>`
      select count(*)::int as n, count(deleted_at)::int as deleted from job_definitions`;
    expect(counts).toEqual({ n: 30 - 12, deleted: 25 - 12 });
    // A definition purged before a replica saw it deleted is dropped by that replica too.
    await db.sql`delete from job_definitions where name = 'd28'`;
    await sync();
    expect(runner.registry.has("d28")).toBe(false);
  });

  it("caps the size and the number of live definitions, with a clear error", async () => {
    const big = definition("too_big", MAX_DEFINITION_BYTES);
    const error = await store.saveDefinition("too_big", big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionLimitError);
    expect(error).toMatchObject({ status: 413 });
    expect(String((error as Error).message)).toMatch(/^job definition is \d+ bytes; at most 16384$/);
    const [{ live } = { live: 0 }] = await db.sql<{ live: number }[]>`
      select count(*)::int as live from job_definitions where deleted_at is null`;
    await db.sql`
      insert into job_definitions (name, definition)
      select 'filler_' || i, '{}'::jsonb from generate_series(1, ${MAX_DEFINITIONS - live}) as i`;
    const full = await store.saveDefinition("one_more", definition("one_more")).catch((e: unknown) => e);
    expect(full).toMatchObject({
      status: 409,
      message: `${MAX_DEFINITIONS} jobs are registered over HTTP already; delete one first`,
    });
    // An existing name is still "already exists" (false), not the limit.
    expect(await store.saveDefinition("filler_1", {})).toBe(false);
    await store.deleteDefinition("filler_1");
    expect(await store.saveDefinition("one_more", definition("one_more"))).toBe(true);
  });

  it("prune_runs deletes trigger requests older than the retention with the runs", async () => {
    await db.sql`insert into job_triggers (job_name, requested_by, requested_at, claimed_at)
      select 'old', 'test', now() - interval '40 days', case when i % 2 = 0 then now() - interval '40 days' end
      from generate_series(1, 23) as i`;
    await db.sql`insert into job_triggers (job_name, requested_by) values ('recent', 'test')`;
    const result = await pruneRuns(db.sql, 30, new AbortController().signal, 10);
    expect(result.triggers).toBe(23);
    const left = await db.sql`select job_name from job_triggers`;
    expect(left.map((r) => r.job_name)).toEqual(["recent"]);
  });
});
