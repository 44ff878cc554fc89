import type { Logger } from "pino";
import type { Config } from "../config.js";
import { errorMessage } from "../errors.js";
import type { Registry } from "../jobs/registry.js";
import { slotsInWindow } from "../schedule/backfill-slots.js";
import type { BackfillRequest, Store } from "../store/store.js";
import { type BackfillNeeds, runBackfill } from "./backfill.js";
import type { Executor } from "./executor.js";
import { groupOf } from "./groups.js";
import type { LoopStep } from "./loop.js";

/** What the loop's backfill step uses; the store and executor exist once the daemon is connected. */
export interface BackfillRequestNeeds {
  connected: () => { store: Store; executor: Executor } | undefined;
  registry: Registry;
  log: Logger;
  leaseSeconds: number;
  /** MAX_CONCURRENT_RUNS and JOB_GROUP_LIMITS: the bounds of the replica's scheduled runs hold for backfills too. */
  limits: Pick<Config, "maxConcurrentRuns" | "groupLimits">;
  /** Running, with JOBS_ENABLED: a replica that runs no jobs takes no backfill either. */
  mayRun: () => boolean;
}

/**
 * The loop step that works on backfill requests (job_backfills: POST /v1/admin/jobs/:name/backfill,
 * `runner backfill` without the job's code). Every replica that has the job works on each open
 * request, in the background, claiming its slots under the slot key: the replicas share the slots
 * and each runs once. A request's failures count from when it was made (`since`), so a slot whose
 * run was abandoned by a dead replica runs again, one that failed does not. The replica that finds
 * every slot decided closes the request; one stopped before that leaves it to the others, or to
 * itself after a restart.
 */
export function backfillRequests(needs: BackfillRequestNeeds): LoopStep {
  const working = new Set<string>();
  return {
    name: "backfills",
    run: async () => {
      const parts = needs.connected();
      if (!parts || !needs.mayRun()) return;
      for (const request of await parts.store.backfills.open(needs.registry.has)) {
        if (working.has(request.id)) continue;
        working.add(request.id);
        const { registry, limits } = needs;
        const backfill: BackfillNeeds = {
          ...parts,
          ...needs,
          roomHere: () => limits.maxConcurrentRuns - parts.executor.runningIds().length,
          groupOf: (job) => groupOf(job, registry, limits.groupLimits),
        };
        void work(backfill, registry, request)
          .catch((error) =>
            needs.log.warn(
              { err: error, backfill_id: request.id },
              "backfill %s failed: %s",
              request.id,
              errorMessage(error),
            ),
          )
          .finally(() => working.delete(request.id));
      }
    },
  };
}

async function work(needs: BackfillNeeds, registry: Registry, request: BackfillRequest): Promise<void> {
  const job = registry.get(request.job_name);
  if (!job) return;
  const { window_from: from, window_to: to } = request;
  const found = slotsInWindow(job, from, to);
  // Checked when the request was made; a schedule changed since could make it too big.
  const slots = "slots" in found ? found.slots : [];
  const summary = await runBackfill(
    needs,
    {
      job,
      from,
      to,
      slots,
      concurrency: request.concurrency,
      rate: request.rate,
      since: request.requested_at,
    },
    () => {},
  );
  if (summary.left === 0)
    await needs.store.backfills.finish(request.id, {
      slots: summary.slots,
      already_succeeded: summary.alreadySucceeded,
      succeeded: summary.succeeded,
      failed: summary.failed,
    });
}
