import type { Sql } from "postgres";
import { ConfigError } from "../errors.js";
import { AuditStore } from "../store/audit.js";
import { iso } from "../util/iso.js";
import { cliActor } from "./actor.js";
import { type CommonFlags, prepare, printJson } from "./context.js";
import { table } from "./table.js";

/** `runner --once --job <name>...`: each job's run now, whatever its schedule, is a backfill event. */
export async function recordBackfills(
  sql: Sql,
  names: string[],
  params: Record<string, string>,
): Promise<void> {
  const audit = new AuditStore(sql);
  for (const name of names)
    await audit.record({ actor: cliActor(), action: "backfill", jobName: name, details: { params } });
}

/**
 * `runner audit [job] [--limit N] [--json]`: the newest audit events first, of one job or of all:
 * when, who, what, which job and the details.
 */
export async function auditCommand(
  job: string | undefined,
  flags: CommonFlags & { json?: boolean; limit?: string },
): Promise<number> {
  const limit = Number(flags.limit ?? "50");
  if (!/^\d+$/.test(flags.limit ?? "50") || limit < 1 || limit > 10000)
    throw new ConfigError(`--limit ${JSON.stringify(flags.limit)}: expected an integer from 1 to 10000`);
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    const events = await new AuditStore(store.sql).list(job, limit);
    if (flags.json) printJson({ events });
    else
      console.log(
        table(
          ["AT", "ACTOR", "ACTION", "JOB", "DETAILS"],
          events.map((e) => [
            iso(e.at),
            e.actor,
            e.action,
            e.job_name,
            JSON.stringify(e.details).slice(0, 120),
          ]),
        ),
      );
    return 0;
  } finally {
    await daemon.stop();
  }
}
