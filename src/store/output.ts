import type { Sql } from "postgres";
import { scrub } from "../util/secrets.js";

/** Where a line of a run's output came from. */
export type OutputStream = "log" | "stdout" | "stderr";

/** One line of a run's output, numbered from 1 within its run. */
export interface OutputLine {
  runId: string;
  seq: number;
  at: Date;
  stream: OutputStream;
  line: string;
}

/** A line as the API and `runner logs` show it. */
export interface OutputRow {
  seq: number;
  at: Date;
  stream: OutputStream;
  line: string;
}

/**
 * job_run_output (sql/005_run_output.sql). The writer (src/run/output.ts) sends every run's new
 * lines in one INSERT and trims the runs past their bounds in one DELETE, however many lines and
 * runs a flush carries. Lines of a run whose row is gone (released, pruned) are dropped.
 */
export class OutputStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Insert `lines` and delete each run's lines numbered below its `keepFrom`, in one statement: a
   * reader never sees a run past its bounds.
   */
  async append(
    lines: readonly OutputLine[],
    trims: readonly { runId: string; keepFrom: number }[],
  ): Promise<void> {
    const { sql } = this;
    if (lines.length === 0 && trims.length === 0) return;
    const rows = lines.map((l) => ({
      run_id: l.runId,
      seq: l.seq,
      at: l.at.toISOString(),
      stream: l.stream,
      line: l.line,
    }));
    const cuts = trims.map((t) => ({ run_id: t.runId, keep_from: t.keepFrom }));
    await sql`
      with trimmed as (
        delete from job_run_output d
        using json_to_recordset(${sql.json(cuts as never)}::json) as t(run_id bigint, keep_from integer)
        where d.run_id = t.run_id and d.seq < t.keep_from
      )
      insert into job_run_output (run_id, seq, at, stream, line)
      select o.run_id, o.seq, o.at, o.stream, o.line
      from json_to_recordset(${sql.json(rows as never)}::json)
        as o(run_id bigint, seq integer, at timestamptz, stream text, line text)
      where exists (select 1 from job_runs r where r.id = o.run_id)
      on conflict (run_id, seq) do nothing`;
  }

  /** A run's lines numbered above `afterSeq`, oldest first, at most `limit`. */
  async lines(runId: string, afterSeq = 0, limit = 1000): Promise<OutputRow[]> {
    const { sql } = this;
    const rows = await sql<OutputRow[]>`
      select seq, at, stream, line from job_run_output
      where run_id = ${runId} and seq > ${afterSeq} order by seq limit ${limit}`;
    // Scrubbed again as they are read: a secret registered after a line was written is hidden too.
    for (const row of rows) row.line = scrub(row.line);
    return rows;
  }

  /** A run's row, or undefined: what GET /v1/admin/runs/:id and `runner logs` show about it. */
  async run(runId: string): Promise<Record<string, unknown> | undefined> {
    const { sql } = this;
    const [row] = await sql`
      select id::text as id, job_name, scheduled_for, trigger, attempt, status, runner_id, started_at,
        finished_at, duration_ms, error, result,
        (select count(*)::int from job_run_output o where o.run_id = r.id) as output_lines
      from job_runs r where id = ${runId}`;
    return row;
  }
}
