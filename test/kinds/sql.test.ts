import { describe, expect, it } from "vitest";
import { parseDeclarativeJob } from "../../src/kinds/index.js";
import { sqlHandler, sqlSpec } from "../../src/kinds/sql.js";
import { context } from "../helpers/context.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("kindsql");
const table = (name: string) => `"${db.schema}".${name}`;

/** The settings of every connection of the pool (it has 5): a job must not leave its own behind. */
async function poolSettings(): Promise<{ timeout: string; path: string }[]> {
  const connections = await Promise.all(Array.from({ length: 5 }, () => db.sql.reserve()));
  try {
    return await Promise.all(
      connections.map(async (c) => {
        const [row] =
          await c`select current_setting('statement_timeout') as timeout, current_setting('search_path') as path`;
        return { timeout: row!.timeout as string, path: row!.path as string };
      }),
    );
  } finally {
    for (const c of connections) c.release();
  }
}

const handler = (spec: unknown, timeoutMs = 10_000) => sqlHandler(sqlSpec.parse(spec), timeoutMs);
const run = (spec: unknown, timeoutMs?: number, ctx = context({ sql: db.sql })) =>
  Promise.resolve(handler(spec, timeoutMs)(ctx));

describe("sql kind against real PostgreSQL", () => {
  it("runs the statements in a transaction and keeps the rows each one affected", async () => {
    await db.sql.unsafe(`create table ${table("tasks")} (id int, due date, overdue boolean default false)`);
    await db.sql.unsafe(
      `insert into ${table("tasks")} values (1, '2020-01-01'), (2, '2999-01-01'), (3, '2020-06-01')`,
    );
    expect(
      await run({
        statements: [
          `update ${table("tasks")} set overdue = true where due < current_date`,
          `delete from ${table("tasks")} where id = 2`,
          `select * from ${table("tasks")}`,
        ],
      }),
    ).toEqual({
      statements: [
        { command: "UPDATE", rows_affected: 2 },
        { command: "DELETE", rows_affected: 1 },
        { command: "SELECT", rows_affected: 2 },
      ],
    });
  });

  it("rolls the whole transaction back when a statement fails, naming the statement", async () => {
    await db.sql.unsafe(`create table ${table("ledger")} (n int)`);
    await expect(
      run({ statements: [`insert into ${table("ledger")} values (1)`, "select 1/0"] }),
    ).rejects.toThrow(new Error("statement 2 failed: division by zero"));
    expect(await db.sql.unsafe(`select count(*)::int as n from ${table("ledger")}`)).toEqual([{ n: 0 }]);
  });

  it("runs VACUUM with transaction: false, and says why it cannot run in one", async () => {
    expect(await run({ statement: `VACUUM ANALYZE ${table("tasks")}`, transaction: false })).toEqual({
      statements: [{ command: "VACUUM", rows_affected: 0 }],
    });
    await expect(run({ statement: `VACUUM ${table("tasks")}` })).rejects.toThrow(
      new Error("statement 1 failed: VACUUM cannot run inside a transaction block"),
    );
  });

  it("cancels a statement that runs past the job's timeout, in a transaction or not", async () => {
    const started = Date.now();
    for (const transaction of [true, false]) {
      await expect(run({ statement: "select pg_sleep(5)", transaction }, 500)).rejects.toThrow(
        new Error("statement 1 failed: canceling statement due to statement timeout"),
      );
    }
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await poolSettings()).not.toContainEqual(expect.objectContaining({ timeout: "500ms" }));
  });

  it("cancels the running statement on the server when the run is aborted", async () => {
    const ctx = context({ sql: db.sql });
    const started = Date.now();
    setTimeout(() => ctx.controller.abort(new Error("shutting down")), 200);
    await expect(run({ statement: "select pg_sleep(30)" }, 60_000, ctx)).rejects.toThrow(
      new Error("statement 1 cancelled: shutting down"),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    const [left] = await db.sql`
      select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'`;
    expect(left!.n).toBe(0);
  });

  it("uses PostgreSQL's default search_path, not the runner's schema, and leaves the pool's alone", async () => {
    // A table only the runner's schema holds (not job_runs: the shared server may hold a
    // `public.job_runs` of some other runner, which the default search_path would rightly find).
    const only = `only_in_${db.schema}`;
    await db.sql.unsafe(`create table "${db.schema}"."${only}" (x int)`);
    for (const transaction of [true, false]) {
      await expect(run({ statement: `select * from ${only}`, transaction })).rejects.toThrow(
        new Error(`statement 1 failed: relation "${only}" does not exist`),
      );
    }
    expect(await poolSettings()).toEqual(Array(5).fill({ timeout: "0", path: db.schema }));
  });

  it("connects to its own database_url when given, and closes it afterwards", async () => {
    const marker = `kind_sql_${db.schema}`;
    const url = new URL(db.url);
    url.searchParams.set("application_name", marker);
    expect(await run({ statement: "select 1", database_url: url.href })).toEqual({
      statements: [{ command: "SELECT", rows_affected: 1 }],
    });
    const [open] =
      await db.sql`select count(*)::int as n from pg_stat_activity where application_name = ${marker}`;
    expect(open!.n).toBe(0);
  });

  it("binds ${NAME} values as parameters: a quote in a value is data, never SQL", async () => {
    await db.sql.unsafe(`create table ${table("notes")} (body text, tag text)`);
    const evil = `x'); drop table ${table("notes")}; --`;
    const parsed = parseDeclarativeJob(
      {
        name: "note",
        schedule: "@daily",
        sql: {
          statements: [
            `insert into ${table("notes")} values (\${NOTE}, '\${TAG}')`,
            `update ${table("notes")} set tag = tag || \${TAG} where body = \${NOTE}`,
          ],
        },
      },
      { NOTE: evil, TAG: "o'clock" },
      "jobs.yaml",
    );
    expect(parsed.problems).toEqual([]);
    expect(await parsed.job!.run(context({ sql: db.sql }))).toEqual({
      statements: [
        { command: "INSERT", rows_affected: 1 },
        { command: "UPDATE", rows_affected: 1 },
      ],
    });
    expect(await db.sql.unsafe(`select body, tag from ${table("notes")}`)).toEqual([
      { body: evil, tag: "o'clocko'clock" },
    ]);
  });

  it("refuses a ${NAME} inside a longer quoted literal, which could not be bound", () => {
    const parsed = parseDeclarativeJob(
      { name: "note", schedule: "@daily", sql: { statement: "select 'tag-${TAG}'" } },
      { TAG: "anything" },
      "jobs.yaml",
    );
    expect(parsed.problems).toEqual([
      {
        path: ["sql", "statement"],
        message:
          "${TAG} inside a quoted literal cannot be bound as a parameter; write it unquoted (e.g. 'prefix-' || ${TAG})",
      },
    ]);
  });
});
