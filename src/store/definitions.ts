import type { StoreScope } from "./fragments.js";

/** job_definitions: jobs registered at run time through the scheduler API, shared by every replica. */

export interface DefinitionRow {
  name: string;
  definition: unknown;
  created_at: Date;
  deleted_at: Date | null;
}

export class DefinitionStore {
  constructor(private readonly scope: StoreScope) {}

  /** Persist a job registered over HTTP; false when a live definition of that name exists. */
  async saveDefinition(name: string, definition: unknown): Promise<boolean> {
    const { sql } = this.scope;
    const rows = await sql`
      insert into job_definitions (name, definition) values (${name}, ${sql.json(definition as never)})
      on conflict (name) do update set definition = excluded.definition, created_at = now(), deleted_at = null
        where job_definitions.deleted_at is not null
      returning name`;
    return rows.length === 1;
  }

  /** Mark a definition deleted, so every replica drops the job at its next loop. */
  async deleteDefinition(name: string): Promise<boolean> {
    const rows = await this.scope
      .sql`update job_definitions set deleted_at = now() where name = ${name} and deleted_at is null returning name`;
    return rows.length === 1;
  }

  async definitions(): Promise<DefinitionRow[]> {
    return this.scope.sql`select name, definition, created_at, deleted_at from job_definitions order by name`;
  }
}
