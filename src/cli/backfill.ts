import { ConfigError, EXIT } from "../errors.js";
import { unknownJobMessage } from "../jobs/registry.js";
import type { Daemon } from "../run/daemon.js";
import { groupOf } from "../run/groups.js";
import type { Job } from "../types.js";
import { runBackfill, slotsToRun } from "../run/backfill.js";
import { slotsInWindow } from "../schedule/backfill-slots.js";
import { AuditStore } from "../store/audit.js";
import { MAX_OPEN_BACKFILLS, type Store } from "../store/store.js";
import { type BackfillWindow, parseBackfill } from "../util/backfill-input.js";
import { leaseSeconds } from "../config.js";
import { cliActor } from "./actor.js";
import { jsonReport, terminalReport } from "./backfill-progress.js";
import { type CommonFlags, prepare } from "./context.js";
import { noLiveReplicaWarning } from "./published.js";

export interface BackfillFlags extends CommonFlags {
  from?: string;
  to?: string;
  dryRun?: boolean;
  concurrency?: string;
  rate?: string;
}

/**
 * `runner backfill <job> --from T --to T [--dry-run] [--concurrency N] [--rate N/s]`. With the
 * job's definition (--jobs, JOBS_FILE) it runs the slots in this process, sharing them with any
 * other backfill or daemon through the slot key; for a job only the running daemons have (the
 * catalog), it queues the backfill for them, as POST /v1/admin/jobs/:name/backfill does.
 * Exit 0 when every slot succeeded, 1 when some failed or were left (Ctrl-C), 2 for bad input.
 */
export async function backfillCommand(name: string, flags: BackfillFlags): Promise<number> {
  const input = parseBackfill(flags);
  if ("problems" in input) throw new ConfigError(input.problems.map((problem) => `--${problem}`));
  const { daemon } = await prepare(flags);
  try {
    const job = daemon.registry.get(name);
    const { store, executor } = await daemon.connect();
    if (!job) return await queueForDaemons(daemon, store, name, input, flags.dryRun === true);
    const found = slotsInWindow(job, input.from, input.to);
    if ("tooMany" in found)
      throw new ConfigError(
        `--from: the window holds more than ${found.tooMany} slots of ${name}; backfill a shorter one`,
      );
    const window = { job: name, timezone: job.timezone, from: input.from, to: input.to };
    const todo = await slotsToRun(store, { job, from: input.from, to: input.to, slots: found.slots });
    const tty = process.stderr.isTTY === true;
    const report = tty ? terminalReport(window, todo.length) : jsonReport(window);
    // On a terminal the bar and its failure lines say what each run's warning would: without
    // LOG_LEVEL, only errors interrupt the bar.
    if (tty && !process.env.LOG_LEVEL) daemon.log.level = "error";
    if (flags.dryRun) {
      report.planned(todo, found.slots.length - todo.length);
      return EXIT.ok;
    }
    await new AuditStore(store.sql).record({
      actor: cliActor(),
      action: "backfill",
      jobName: name,
      details: auditDetails(input, { slots: todo.length, where: "cli" }),
    });
    let stopping = false;
    const stop = stopOnSignal(daemon, () => {
      stopping = true;
    });
    try {
      const needs = {
        store,
        executor,
        log: daemon.log,
        leaseSeconds: leaseSeconds(daemon.config),
        roomHere: () => daemon.config.maxConcurrentRuns - executor.runningIds().length,
        groupOf: (job: Job) => groupOf(job, daemon.registry, daemon.config.groupLimits),
      };
      const summary = await runBackfill(
        { ...needs, mayRun: () => !stopping },
        {
          job,
          from: input.from,
          to: input.to,
          slots: found.slots,
          concurrency: input.concurrency,
          rate: input.rate,
        },
        (done) => report.slot(done),
      );
      report.summary(summary);
      return summary.failed > 0 || summary.left > 0 ? EXIT.runFailed : EXIT.ok;
    } finally {
      stop();
    }
  } finally {
    await daemon.stop();
  }
}

/** The fields of a backfill's audit event: the window and its limits. */
export function auditDetails(input: BackfillWindow, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    concurrency: input.concurrency,
    rate: input.rate,
    ...extra,
  };
}

/** A job this process cannot run: a request the running daemons that have it pick up. */
async function queueForDaemons(
  daemon: Daemon,
  store: Store,
  name: string,
  input: BackfillWindow,
  dryRun: boolean,
): Promise<number> {
  const entries = await store.catalog.entries();
  const published = entries.find((entry) => entry.name === name);
  if (!published) {
    const known = new Set([...daemon.registry.names(), ...entries.map((entry) => entry.name)]);
    throw new ConfigError(unknownJobMessage(name, [...known].sort()));
  }
  if (dryRun)
    throw new ConfigError(
      `--dry-run: ${name} is not defined in this process; pass its --jobs file, or POST /v1/admin/jobs/${name}/backfill with "dry_run": true`,
    );
  const id = await store.backfills.request(name, input, cliActor());
  if (id === null)
    throw new ConfigError(
      `${MAX_OPEN_BACKFILLS} backfills of ${name} are open already; wait for one to finish`,
    );
  await new AuditStore(store.sql).record({
    actor: cliActor(),
    action: "backfill",
    jobName: name,
    details: auditDetails(input, { backfill_id: id, where: "daemons" }),
  });
  const warning = noLiveReplicaWarning(name, published);
  if (warning) console.error(warning);
  console.log(`backfill ${id} for ${name} queued for the running daemons`);
  return EXIT.ok;
}

/**
 * The first SIGINT/SIGTERM stops claiming and gives running slots the shutdown grace (then they
 * are recorded interrupted, and the next backfill runs them); a second exits at once. Returns the
 * function that removes the handlers.
 */
function stopOnSignal(daemon: Daemon, onStop: () => void): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(EXIT.runFailed);
    daemon.log.warn({ signal }, "backfill stopping: no more slots are claimed");
    onStop();
    void daemon.executor?.stop(daemon.config.shutdownGraceSeconds * 1000);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
