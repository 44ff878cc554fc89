import type { Logger } from "pino";
import type { SlotState, Store } from "../store/store.js";
import type { Job, RunOutcome } from "../types.js";
import type { Executor } from "./executor.js";

/**
 * A backfill (docs/exactly-once.md#backfill): every planned slot of a window that has no
 * successful run runs as that slot, trigger `backfill`, through the executor (timeout, outcome,
 * the job's retries). The database decides who runs a slot (BackfillStore.claim under the slot
 * key), so any number of processes may work on one window at once; each keeps claiming until
 * every slot is decided: succeeded, or failed since the backfill began. A slot whose run is going
 * on elsewhere is waited for; if that run's process died, the reaper marks it abandoned when its
 * lease runs out and the slot is claimed again.
 */

export interface BackfillNeeds {
  store: Store;
  executor: Executor;
  log: Logger;
  /** False once the process is stopping: nothing more is claimed. */
  mayRun: () => boolean;
  /** Lease time: this process renews its runs' leases a few times per lease. */
  leaseSeconds: number;
  /** How many more runs this process may start now (MAX_CONCURRENT_RUNS less the runs it holds). */
  roomHere: () => number;
  /** The job's mutual-exclusion group and its limit (JOB_GROUP_LIMITS), if any. */
  groupOf: (job: Job) => { max: number; jobs: string[] } | undefined;
}

export interface BackfillPlan {
  job: Job;
  from: Date;
  to: Date;
  /** The window's planned instants, oldest first (schedule/backfill-slots.ts). */
  slots: Date[];
  concurrency: number;
  rate: number | null;
  /** When the backfill began (the database's clock); default: now. A daemon gives its request's time. */
  since?: Date;
}

/** How one slot ended for this backfill. */
export interface SlotDone {
  slot: Date;
  status: RunOutcome["status"];
  /** The run this process started; null when another process decided the slot. */
  runId: string | null;
  /** False when another process (a second backfill, a daemon) ran it. */
  here: boolean;
  durationMs: number | null;
  error: string | null;
}

export interface BackfillSummary {
  /** Planned instants in the window. */
  slots: number;
  /** Of those, succeeded before this backfill began: not run again. */
  alreadySucceeded: number;
  succeeded: number;
  failed: number;
  /** Not decided when the backfill stopped (Ctrl-C, shutdown): the next backfill runs them. */
  left: number;
  /** Why it stopped with slots left, when not by a stop: the job is paused. */
  stoppedBecause: string | null;
}

/** Slots whose row says they are done for this backfill, or still running somewhere. */
function decide(states: SlotState[]) {
  const byTime = new Map(states.map((state) => [state.scheduled_for.getTime(), state]));
  return (slot: Date) => byTime.get(slot.getTime());
}

/** The slots of the plan that had no successful run when the backfill began: what a dry run lists. */
export async function slotsToRun(
  store: Store,
  plan: Omit<BackfillPlan, "concurrency" | "rate">,
): Promise<Date[]> {
  const since = plan.since ?? (await store.backfills.now());
  const stateOf = decide(await store.backfills.slotStates(plan.job.name, plan.from, plan.to, since));
  return plan.slots.filter((slot) => !stateOf(slot)?.succeeded_before);
}

/** Run a backfill to the end (every slot decided) or until `mayRun` turns false. */
export async function runBackfill(
  needs: BackfillNeeds,
  plan: BackfillPlan,
  onSlot: (done: SlotDone) => void,
): Promise<BackfillSummary> {
  const { store, executor, log } = needs;
  const { job } = plan;
  const since = plan.since ?? (await store.backfills.now());
  const todo = await slotsToRun(store, { ...plan, since });
  const summary: BackfillSummary = {
    slots: plan.slots.length,
    alreadySucceeded: plan.slots.length - todo.length,
    succeeded: 0,
    failed: 0,
    left: todo.length,
    stoppedBecause: null,
  };
  const finished = new Set<number>();
  const mine = new Map<number, Promise<void>>();
  const finish = (done: SlotDone) => {
    if (finished.has(done.slot.getTime())) return;
    finished.add(done.slot.getTime());
    summary.left--;
    if (done.status === "succeeded") summary.succeeded++;
    else summary.failed++;
    onSlot(done);
  };
  const pollMs = plan.rate ? Math.min(1000, Math.max(20, 1000 / plan.rate)) : 250;
  let renewedAt = Date.now();
  while (needs.mayRun()) {
    // Slots are claimed oldest first: the rows before the first undecided one need no second look.
    const first = todo.find((slot) => !finished.has(slot.getTime()));
    if (!first) break;
    const stateOf = decide(await store.backfills.slotStates(job.name, first, plan.to, since));
    let runningElsewhere = 0;
    const candidates: Date[] = [];
    for (const slot of todo) {
      if (finished.has(slot.getTime()) || mine.has(slot.getTime())) continue;
      const state = stateOf(slot);
      if (state?.succeeded || state?.failed)
        finish({
          slot,
          status: state.succeeded ? "succeeded" : "failed",
          runId: null,
          here: false,
          durationMs: null,
          error: null,
        });
      else if (state?.running) runningElsewhere++;
      else candidates.push(slot);
    }
    if (candidates.length === 0 && mine.size === 0 && runningElsewhere === 0) break;
    // A run elsewhere whose process died holds its slot until its lease runs out: the reaper frees it.
    if (runningElsewhere > 0) await store.reapAbandoned();
    if (Date.now() - renewedAt > (needs.leaseSeconds * 1000) / 3) {
      await store.renewLeases(executor.runningIds());
      renewedAt = Date.now();
    }
    const room = Math.min(plan.concurrency - mine.size, needs.roomHere());
    if (candidates.length > 0 && room > 0) {
      const claimed = await store.backfills.claim({
        jobName: job.name,
        from: plan.from,
        to: plan.to,
        since,
        slots: candidates.slice(0, plan.rate ? 1 : room),
        concurrency: plan.concurrency,
        skipOverlap: job.overlap === "skip",
        maxRunning: job.concurrency,
        spacingSeconds: plan.rate ? 1 / plan.rate : 0,
        group: needs.groupOf(job),
      });
      if (claimed.length === 0 && mine.size === 0 && (await store.backfills.paused(job.name))) {
        summary.stoppedBecause = "the job is paused";
        log.warn({ job_name: job.name }, "backfill of %s stopped: the job is paused", job.name);
        break;
      }
      if (!needs.mayRun()) {
        // The stop began while the claim was on its way: these rows never start.
        await store.markInterrupted(
          claimed.map((row) => row.id),
          "backfill stopped before the slot started",
        );
        break;
      }
      for (const row of claimed) {
        const slot = row.scheduled_for;
        const started = executor.startClaimed({
          job,
          runId: row.id,
          trigger: "backfill",
          attempt: row.attempt,
          scheduledFor: slot,
          params: {},
        });
        const settled = started.done.then((outcome) => {
          mine.delete(slot.getTime());
          // A run interrupted by a stop is not decided: the next backfill runs it again.
          if (outcome.status === "interrupted") return;
          finish({
            slot,
            status: outcome.status,
            runId: row.id,
            here: true,
            durationMs: Math.round(outcome.durationMs),
            error: outcome.error ?? null,
          });
        });
        mine.set(slot.getTime(), settled);
      }
    }
    await Promise.race([...mine.values(), new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  await Promise.allSettled(mine.values());
  const { slots, alreadySucceeded, succeeded, failed, left, stoppedBecause } = summary;
  log.info(
    {
      job_name: job.name,
      slots,
      already_succeeded: alreadySucceeded,
      succeeded,
      failed,
      left,
      stopped_because: stoppedBecause,
    },
    "backfill of %s: %d slot(s) left",
    job.name,
    left,
  );
  return summary;
}
