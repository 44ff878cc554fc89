import postgres, { type PendingQuery, type Row, type Sql } from "postgres";
import { z } from "zod";
import { errorMessage } from "../errors.js";
import type { JobContext, JobHandler } from "../types.js";
import { scrubbing } from "./interpolate.js";

/** The `sql:` spec of a jobs-file entry. */
export const sqlSpec = z
  .object({
    statements: z
      .array(z.string().trim().min(1, "must not be empty"))
      .min(1, "expected at least one")
      .optional(),
    statement: z.string().trim().min(1, "must not be empty").optional(),
    transaction: z.boolean().default(true),
    // Checked after ${NAME} interpolation; the message never repeats the value (it has a password).
    database_url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
      .optional(),
  })
  .strict()
  .refine(
    (spec) => (spec.statements === undefined) !== (spec.statement === undefined),
    "expected statements (a list) or statement, not both",
  );

export type SqlSpec = z.output<typeof sqlSpec>;

export interface SqlResult {
  statements: { command: string; rows_affected: number }[];
}

/**
 * The runner's pool sets search_path to the runner's schema as a startup parameter, which also
 * makes it the session's DEFAULT (so `set search_path to default` changes nothing). Jobs' SQL is
 * written for the database, not for the runner's tables: give it PostgreSQL's built-in default.
 */
const DEFAULT_SEARCH_PATH = '"$user", public';

/**
 * Run statements in one transaction (all or nothing) with `statement_timeout` set from the job's
 * timeout, or one by one on a reserved connection (`transaction: false`, as VACUUM needs). The
 * runner's pool is used unless the spec has its own database_url, whose connection keeps the
 * server's own settings.
 */
export function sqlHandler(
  spec: SqlSpec,
  timeoutMs: number,
  secrets: readonly string[] = [],
  params: readonly (readonly string[])[] = [],
): JobHandler {
  const statements = spec.statements ?? [spec.statement!];
  const timeout = Math.max(1, Math.floor(timeoutMs));
  return scrubbing(secrets, async (ctx: JobContext): Promise<SqlResult> => {
    let own: Sql | undefined;
    try {
      own = spec.database_url
        ? postgres(spec.database_url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
        : undefined;
      const sql = own ?? ctx.sql;
      if (spec.transaction) {
        return await sql.begin(async (tx) => {
          await tx.unsafe(`set local statement_timeout = ${timeout}`);
          if (!own) await tx.unsafe(`set local search_path to ${DEFAULT_SEARCH_PATH}`);
          return runAll(statements, params, (text, values) => tx.unsafe(text, values), ctx.signal);
        });
      }
      const connection = await sql.reserve();
      try {
        await connection.unsafe(`set statement_timeout = ${timeout}`);
        if (!own) await connection.unsafe(`set search_path to ${DEFAULT_SEARCH_PATH}`);
        return await runAll(
          statements,
          params,
          (text, values) => connection.unsafe(text, values),
          ctx.signal,
        );
      } finally {
        // RESET goes back to the connection's startup values: the pool's search_path included.
        await connection.unsafe("reset statement_timeout").catch(() => {});
        await connection.unsafe("reset search_path").catch(() => {});
        connection.release();
      }
    } finally {
      await own?.end({ timeout: 5 }).catch(() => {});
    }
  });
}

/** `params[i]` are the values bound to statement i's `$1`, `$2`, ... (its `${NAME}` references). */
async function runAll(
  statements: string[],
  params: readonly (readonly string[])[],
  run: (text: string, values: string[] | undefined) => PendingQuery<Row[]>,
  signal: AbortSignal,
): Promise<SqlResult> {
  const results: SqlResult["statements"] = [];
  for (const [index, text] of statements.entries()) {
    const which = `statement ${index + 1}`;
    if (signal.aborted) throw new Error(`${which} not run: ${errorMessage(signal.reason)}`);
    const values = params[index];
    const query = run(text, values && values.length > 0 ? [...values] : undefined);
    // Cancel on the server: otherwise a long statement outlives its run until statement_timeout.
    const onAbort = () => query.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const result = await query;
      results.push({ command: result.command, rows_affected: result.count ?? 0 });
    } catch (error) {
      // Thrown out of sql.begin, this rolls the whole transaction back.
      throw new Error(
        signal.aborted
          ? `${which} cancelled: ${errorMessage(signal.reason)}`
          : `${which} failed: ${errorMessage(error)}`,
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  return { statements: results };
}
