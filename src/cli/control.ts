import { ConfigError } from "../errors.js";
import { openDatabase } from "../store/open.js";
import { AuditStore } from "../store/audit.js";
import { PauseStore } from "../store/pauses.js";
import { describeUrl } from "../store/pool.js";
import { pendingRetryConflict } from "../run/retry-conflict.js";
import { parsePause } from "../util/pause-input.js";
import { cliActor } from "./actor.js";
import { type CommonFlags, parseParams, prepare, printJson } from "./context.js";
import { halfSetCredentials } from "./credentials.js";
import { noLiveReplicaWarning, requireKnownJob } from "./published.js";

/**
 * `runner trigger <job>`: a request in the database that one live replica picks up within a loop.
 * The job is one of this process's registry or one a replica publishes (job_catalog). Refused
 * (exit 2) while a retry of an overlap `skip` job is pending.
 */
export async function triggerCommand(
  name: string,
  flags: CommonFlags & { param?: string[]; json?: boolean },
): Promise<number> {
  const params = parseParams(flags.param);
  const { daemon, config } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    const published = await requireKnownJob(daemon, store, name);
    // A pending retry of an overlap `skip` job is its next run: refused like HTTP's 409, exit 2.
    const conflict = await pendingRetryConflict(store, name, daemon.registry.get(name)?.overlap);
    if (conflict) throw new ConfigError(conflict);
    const request = await store.requestTrigger({
      jobName: name,
      params,
      trigger: "manual",
      requestedBy: `cli@${config.runnerId}`,
    });
    await new AuditStore(store.sql).record({
      actor: cliActor(),
      action: "trigger",
      jobName: name,
      details: { trigger_id: request.id, params },
    });
    const warning = noLiveReplicaWarning(name, published);
    if (warning) console.error(warning);
    const replicas = published?.replicas ?? [];
    if (flags.json) printJson({ trigger_id: request.id, job_name: name, replicas });
    else if (published?.interval_seconds != null)
      // The interval of the live replicas that run it, not this process's --interval.
      console.log(
        `trigger ${request.id} for ${name} queued; a running runner starts it within one loop (${published.interval_seconds}s)`,
      );
    else console.log(`trigger ${request.id} for ${name} queued`);
    return 0;
  } finally {
    await daemon.stop();
  }
}

/**
 * `runner pause <job> [--reason TEXT] [--until ISO | --for 2h]` and `runner resume <job>`:
 * persisted; every replica honours it at its next claim, and a pause with an expiry is lifted by
 * the first loop after it. The owner is `cli:<os user>@<host>`; both are in the audit trail.
 */
export async function pauseCommand(
  name: string,
  paused: boolean,
  flags: CommonFlags & { reason?: string; until?: string; for?: string },
): Promise<number> {
  const input = paused ? parsePause(flags) : { reason: null, until: null };
  if ("problems" in input) throw new ConfigError(input.problems.map((p) => `--${p}`));
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    await requireKnownJob(daemon, store, name);
    const actor = cliActor();
    const pauses = new PauseStore(store.sql);
    const changed = paused ? await pauses.pause(name, { by: actor, ...input }) : await pauses.resume(name);
    if (changed)
      await new AuditStore(store.sql).record({
        actor,
        action: paused ? "pause" : "resume",
        jobName: name,
        details: paused ? { reason: input.reason, until: input.until?.toISOString() ?? null } : {},
      });
    if (!paused) console.log(changed ? `${name} resumed` : `${name} was not paused`);
    else
      console.log(
        `${name} paused${input.until ? ` until ${input.until.toISOString()}` : ""}${input.reason ? `: ${input.reason}` : ""}`,
      );
    return 0;
  } finally {
    await daemon.stop();
  }
}

/**
 * `runner migrate`: idempotent; safe from several replicas at once (advisory lock). Says what it
 * applied, or that there was nothing to apply.
 */
export async function migrateCommand(): Promise<number> {
  const { daemon } = await prepare({});
  const schema = daemon.config.databaseSchema;
  // openDatabase migrates, and turns a refusal (no permission for the schema) into exit 3.
  const database = await openDatabase(daemon.config, daemon.log, { max: 1 });
  try {
    const { applied } = database;
    console.log(
      applied.length > 0
        ? `applied ${applied.join(", ")} in schema ${schema}`
        : `migrations up to date in schema ${schema}: nothing to apply`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

/** `runner check`: configuration and registry, no database. */
export async function checkCommand(flags: CommonFlags & { json?: boolean }): Promise<number> {
  const { daemon, config } = await prepare(flags);
  const problems = halfSetCredentials(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const summary = {
    ok: true,
    jobs: daemon.registry.names(),
    database: config.databaseUrl ? describeUrl(config.databaseUrl) : "embedded (./.runner)",
    schema: config.databaseSchema,
    interval_seconds: config.intervalSeconds,
    http: `${config.httpHost}:${config.httpPort}`,
    runner_id: config.runnerId,
    jobs_enabled: config.jobsEnabled,
  };
  if (flags.json) printJson(summary);
  else {
    console.log(`configuration ok: ${summary.jobs.length} job(s): ${summary.jobs.join(", ") || "(none)"}`);
    console.log(
      `database ${summary.database}, schema ${summary.schema}; loop every ${summary.interval_seconds}s; http ${summary.http}; runner ${summary.runner_id}`,
    );
  }
  return 0;
}
