import postgres, { type Sql } from "postgres";
import { z } from "zod";
import type { JobContext } from "../types.js";

export const sqlSpec = z
  .object({
    statements: z.array(z.string().min(1)).min(1).optional(),
    statement: z.string().min(1).optional(),
    transaction: z.boolean().default(true),
    database_url: z.string().optional(),
  })
  .strict()
  .refine(
    (spec) => (spec.statements === undefined) !== (spec.statement === undefined),
    "expected statements (a list) or statement",
  );

export type SqlSpec = z.output<typeof sqlSpec>;

interface StatementResult {
  command: string;
  rows_affected: number;
}

/**
 * Run SQL statements in one transaction (all or nothing) with statement_timeout from the job's
 * timeout, or one by one outside a transaction (`transaction: false`, as VACUUM needs).
 */
export function sqlHandler(spec: SqlSpec, timeoutMs: number) {
  const statements = spec.statements ?? [spec.statement!];
  const timeout = `${Math.max(1, Math.floor(timeoutMs))}ms`;
  return async (ctx: JobContext) => {
    const own = spec.database_url
      ? postgres(spec.database_url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
      : undefined;
    const sql: Sql = own ?? ctx.sql;
    try {
      const results: StatementResult[] = [];
      const runAll = async (run: (text: string) => Promise<{ command: string; count: number }>) => {
        for (const [index, text] of statements.entries()) {
          ctx.signal.throwIfAborted();
          try {
            const result = await run(text);
            results.push({ command: result.command, rows_affected: result.count ?? 0 });
          } catch (error) {
            throw new Error(`statement ${index + 1} failed: ${(error as Error).message}`);
          }
        }
      };
      if (spec.transaction) {
        await sql.begin(async (tx) => {
          await tx.unsafe(`set local statement_timeout = '${timeout}'`);
          // The runner's pool points search_path at its own schema; the job's SQL expects the default.
          await tx.unsafe("set local search_path to default");
          await runAll((text) => tx.unsafe(text));
        });
      } else {
        const connection = await sql.reserve();
        try {
          await connection.unsafe(`set statement_timeout = '${timeout}'`);
          await connection.unsafe("set search_path to default");
          await runAll((text) => connection.unsafe(text));
        } finally {
          await connection.unsafe("reset statement_timeout").catch(() => {});
          await connection.unsafe("reset search_path").catch(() => {});
          connection.release();
        }
      }
      return { statements: results };
    } finally {
      await own?.end({ timeout: 5 });
    }
  };
}
