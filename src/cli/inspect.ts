import { ConfigError } from "../errors.js";
import { unknownJobMessage } from "../jobs/registry.js";
import { nextInstant } from "../schedule/cron.js";
import { jobStatus } from "../observe/status.js";
import { type CommonFlags, prepare, printJson } from "./context.js";
import { iso, table } from "./table.js";

/** `runner jobs`: the registry, no database needed. */
export async function jobsCommand(flags: CommonFlags & { json?: boolean }): Promise<number> {
  const { runner } = await prepare(flags);
  const now = new Date();
  const jobs = runner.registry.list().map((job) => ({
    name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    next_run_at: job.enabled ? iso(nextInstant(job.schedule, job.timezone, now)) : null,
    timeout_ms: job.timeoutMs,
    retries: job.retries.attempts,
    overlap: job.overlap,
    catch_up: job.catchUp,
    enabled: job.enabled,
    source: job.source,
    description: job.description,
  }));
  if (flags.json) printJson({ jobs });
  else
    console.log(
      table(
        ["NAME", "SCHEDULE", "TIMEZONE", "NEXT RUN", "TIMEOUT", "RETRIES", "SOURCE"],
        jobs.map((j) => [
          j.name,
          j.schedule,
          j.timezone,
          j.next_run_at,
          `${j.timeout_ms / 1000}s`,
          j.retries,
          j.source,
        ]),
      ),
    );
  return 0;
}

/** `runner status`: per-job state from the database. */
export async function statusCommand(flags: CommonFlags & { json?: boolean }): Promise<number> {
  const { runner } = await prepare(flags);
  try {
    const store = await runner.connect();
    const jobs = await jobStatus(store, runner.registry);
    if (flags.json) printJson({ jobs });
    else
      console.log(
        table(
          [
            "NAME",
            "LAST HEARTBEAT",
            "RUNNER",
            "LAST SUCCESS",
            "FAILURES",
            "NEXT RUN",
            "PAUSED",
            "RUNNING",
            "LAST ERROR",
          ],
          jobs.map((j) => [
            j.name,
            j.last_heartbeat,
            j.runner_id,
            j.last_success_at,
            j.consecutive_failures,
            j.next_run_at,
            j.paused ? "yes" : "no",
            j.running,
            j.last_error?.slice(0, 60),
          ]),
        ),
      );
    return 0;
  } finally {
    await runner.stop();
  }
}

/** `runner history <job>`: newest runs first. */
export async function historyCommand(
  name: string,
  flags: CommonFlags & { json?: boolean; limit?: string },
): Promise<number> {
  const limit = Number(flags.limit ?? "20");
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000)
    throw new ConfigError(
      `--limit: expected an integer from 1 to 10000 (got ${JSON.stringify(flags.limit)})`,
    );
  const { runner } = await prepare(flags);
  try {
    const store = await runner.connect();
    if (!runner.registry.has(name)) {
      const known = (await store.status()).map((row) => row.name).filter((n) => n !== "jobs-runner");
      if (!known.includes(name))
        throw new ConfigError(
          unknownJobMessage(name, [...new Set([...runner.registry.names(), ...known])].sort()),
        );
    }
    const runs = await store.history(name, limit);
    if (flags.json) printJson({ runs });
    else
      console.log(
        table(
          ["ID", "STATUS", "TRIGGER", "ATTEMPT", "SCHEDULED FOR", "STARTED", "DURATION", "RUNNER", "ERROR"],
          runs.map((r) => [
            r.id,
            r.status,
            r.trigger,
            r.attempt,
            iso(r.scheduled_for),
            iso(r.started_at),
            r.duration_ms === null ? null : `${r.duration_ms}ms`,
            r.runner_id,
            r.error?.slice(0, 60),
          ]),
        ),
      );
    return 0;
  } finally {
    await runner.stop();
  }
}
