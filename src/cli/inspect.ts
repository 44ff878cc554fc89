import { ConfigError } from "../errors.js";
import { jobView } from "../observe/job-view.js";
import { jobStatus, pendingRetryText, pendingRetryView, progressText } from "../observe/status.js";
import { nextInstant } from "../schedule/cron.js";
import { RUNNER_ROW } from "../store/store.js";
import { iso } from "../util/iso.js";
import { type CommonFlags, prepare, printJson } from "./context.js";
import { requireKnownJob, withPublished } from "./published.js";
import { printable } from "./printable.js";
import { table } from "./table.js";

/** `runner jobs`: the registry, no database needed. */
export async function jobsCommand(flags: CommonFlags & { json?: boolean }): Promise<number> {
  const { daemon } = await prepare(flags);
  const now = new Date();
  const jobs = daemon.registry
    .list()
    .map((job) => jobView(job, nextInstant(job.schedule, job.timezone, now, job.dst)));
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

/** `runner status`: per-job state from the database, with what the replicas publish of each job. */
export async function statusCommand(flags: CommonFlags & { json?: boolean }): Promise<number> {
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    const jobs = withPublished(await jobStatus(store, daemon.registry), await store.catalog.entries());
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
            "NEXT RETRY",
            "NEXT RUN",
            "EXPECTED LAST RUN",
            "OVERDUE",
            "PAUSED",
            "RUNNING",
            "PROGRESS",
            "LAST ERROR",
          ],
          jobs.map((j) => [
            j.name,
            j.last_heartbeat,
            j.runner_id,
            j.last_success_at,
            j.consecutive_failures,
            pendingRetryText(j.pending_retry),
            j.next_run_at,
            j.expected_last_run_at,
            j.overdue_seconds === null ? null : `${j.overdue_seconds}s`,
            j.paused ? pausedText(j) : "no",
            j.running,
            progressText(j.progress),
            j.last_error?.slice(0, 60),
          ]),
        ),
      );
    return 0;
  } finally {
    await daemon.stop();
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
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    if (!daemon.registry.has(name)) {
      // Jobs no replica publishes any more still have their history.
      const known = (await store.status()).map((row) => row.name).filter((n) => n !== RUNNER_ROW);
      if (!known.includes(name)) await requireKnownJob(daemon, store, name, known);
    }
    const runs = await store.history(name, limit);
    const pending = (await store.retries.ofJob(name)).map(pendingRetryView);
    if (flags.json) printJson({ runs, pending_retries: pending });
    else
      console.log(
        table(
          ["ID", "STATUS", "TRIGGER", "ATTEMPT", "SCHEDULED FOR", "STARTED", "DURATION", "RUNNER", "ERROR"],
          [
            // Not a run yet: no id, no start; when it is due, and the failed run it retries.
            ...pending.map((p) => [
              null,
              "pending retry",
              "retry",
              p.attempt,
              p.scheduled_for,
              `due ${p.due_at}`,
              null,
              p.scheduled_by,
              `retries run ${p.retry_of}`,
            ]),
            ...runs.map((r) => [
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
          ],
        ),
      );
    return 0;
  } finally {
    await daemon.stop();
  }
}

/** "yes (by cli:ann@host until 2026-12-24T00:00:00.000Z: deploy freeze)": who, until when, why. */
function pausedText(j: {
  paused_by: string | null;
  paused_until: string | null;
  paused_reason: string | null;
}) {
  const who = [j.paused_by && `by ${j.paused_by}`, j.paused_until && `until ${j.paused_until}`].filter(
    Boolean,
  );
  const why = j.paused_reason ? `: ${printable(j.paused_reason.slice(0, 60))}` : "";
  return who.length > 0 || why ? `yes (${who.join(" ")}${why})` : "yes";
}
