import { type StoreScope, textList } from "./fragments.js";

/** job_definitions: jobs registered at run time through the scheduler API, shared by every replica. */

export interface DefinitionRow {
  name: string;
  definition: unknown;
  created_at: Date;
  deleted_at: Date | null;
}

/** A definition without its JSON: what every loop reads to see what changed. */
export type DefinitionVersion = Omit<DefinitionRow, "definition">;

/** Live definitions at most, all replicas together: every one is a job every replica schedules. */
export const MAX_DEFINITIONS = 1000;
/** The largest definition kept, as JSON text (every replica reads it). */
export const MAX_DEFINITION_BYTES = 16 * 1024;
/** Deleted definitions are purged this long after the deletion (every replica saw it by then). */
export const PURGE_DELETED_AFTER_SECONDS = 3600;

/** A definition refused by a limit: `status` is the HTTP answer (413 too large, 409 too many). */
export class DefinitionLimitError extends Error {
  constructor(
    readonly status: 409 | 413,
    message: string,
  ) {
    super(message);
    this.name = "DefinitionLimitError";
  }
}

export class DefinitionStore {
  constructor(private readonly scope: StoreScope) {}

  /**
   * Persist a job registered over HTTP; false when a live definition of that name exists.
   * Throws DefinitionLimitError past MAX_DEFINITION_BYTES or MAX_DEFINITIONS (checked in the
   * insert itself; registrations racing each other may pass it by a few).
   */
  async saveDefinition(name: string, definition: unknown): Promise<boolean> {
    const bytes = Buffer.byteLength(JSON.stringify(definition ?? null));
    if (bytes > MAX_DEFINITION_BYTES)
      throw new DefinitionLimitError(
        413,
        `job definition is ${bytes} bytes; at most ${MAX_DEFINITION_BYTES}`,
      );
    const { sql } = this.scope;
    const rows = await sql`
      insert into job_definitions (name, definition)
      select ${name}, ${sql.json(definition as never)}
      where (select count(*) from job_definitions where deleted_at is null) < ${MAX_DEFINITIONS}
      on conflict (name) do update set definition = excluded.definition, created_at = now(), deleted_at = null
        where job_definitions.deleted_at is not null
      returning name`;
    if (rows.length === 1) return true;
    const [live] = await sql`select 1 from job_definitions where name = ${name} and deleted_at is null`;
    if (live) return false;
    throw new DefinitionLimitError(
      409,
      `${MAX_DEFINITIONS} jobs are registered over HTTP already; delete one first`,
    );
  }

  /** Mark a definition deleted, so every replica drops the job at its next loop. */
  async deleteDefinition(name: string): Promise<boolean> {
    const rows = await this.scope
      .sql`update job_definitions set deleted_at = now() where name = ${name} and deleted_at is null returning name`;
    return rows.length === 1;
  }

  /** Every definition's name and version (created_at, deleted_at), without the JSON. */
  async definitionVersions(): Promise<DefinitionVersion[]> {
    return this.scope.sql`select name, created_at, deleted_at from job_definitions order by name`;
  }

  /** The live definitions of these names, JSON included. */
  async definitionsByName(names: string[]): Promise<DefinitionRow[]> {
    if (names.length === 0) return [];
    const { sql } = this.scope;
    return sql`
      select name, definition, created_at, deleted_at from job_definitions
      where name in (${textList(sql, names)}) and deleted_at is null order by name`;
  }

  async definitions(): Promise<DefinitionRow[]> {
    return this.scope.sql`select name, definition, created_at, deleted_at from job_definitions order by name`;
  }

  /** Delete the definitions deleted more than PURGE_DELETED_AFTER_SECONDS ago; returns how many. */
  async purgeDeletedDefinitions(): Promise<number> {
    const rows = await this.scope.sql`
      delete from job_definitions
      where deleted_at < now() - make_interval(secs => ${PURGE_DELETED_AFTER_SECONDS})`;
    return rows.count;
  }
}
