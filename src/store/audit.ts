import type { Sql } from "postgres";
import { scrubValue } from "../util/secrets.js";

/** What the audit trail records (sql/006_pause_and_audit.sql). */
export type AuditAction = "pause" | "resume" | "trigger" | "backfill" | "register" | "delete" | "change";

export interface AuditEvent {
  /** The Basic user, `cli:<os user>@<host>`, `internal-secret`, or `runner` for its own acts. */
  actor: string;
  action: AuditAction;
  jobName: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: AuditAction;
  job_name: string | null;
  details: Record<string, unknown>;
}

/** job_audit: one row per event, newest first when read. */
export class AuditStore {
  constructor(private readonly sql: Sql) {}

  /** Details are scrubbed of known secrets like every log line (a trigger's params may hold one). */
  async record(event: AuditEvent): Promise<void> {
    await this.recordMany([event]);
  }

  /**
   * Many events in one statement, in their order: a replica's first start with 100,000 jobs
   * records 100,000 registrations, one round trip each was most of a minute.
   */
  async recordMany(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { sql } = this;
    const rows = events.map((event) => ({
      actor: event.actor,
      action: event.action,
      job_name: event.jobName,
      details: scrubValue(event.details ?? {}),
    }));
    await sql`
      insert into job_audit (actor, action, job_name, details)
      select e.value->>'actor', e.value->>'action', e.value->>'job_name', (e.value->'details')::jsonb
      from jsonb_array_elements(${sql.json(rows as never)}::jsonb) with ordinality as e(value, n)
      order by e.n`;
  }

  /** The newest events, of one job or of all, at most `limit`. */
  async list(jobName: string | undefined, limit: number): Promise<AuditRow[]> {
    const { sql } = this;
    return sql<AuditRow[]>`
      select id::text as id, at, actor, action, job_name, details from job_audit
      ${jobName === undefined ? sql`` : sql`where job_name = ${jobName}`}
      order by id desc limit ${limit}`;
  }
}
