import type { Logger } from "pino";
import type { Config } from "../config.js";
import { errorMessage } from "../errors.js";
import type { Registry } from "../jobs/registry.js";
import type { PublishedJob, Store } from "../store/store.js";
import { auditDefinitionChanges } from "./definition-audit.js";
import type { LoopStep } from "./loop.js";

/** Exactly what publishing the registry uses. */
export interface PublishNeeds {
  store: Store;
  registry: Registry;
  config: Pick<Config, "intervalSeconds" | "runnerId">;
  log: Logger;
}

/**
 * Publish this replica's jobs to job_catalog now (a failure is logged: the loop tries again), and
 * return the loop step that keeps them published, so `runner trigger`, `pause`, `resume`, `status`
 * and `history` know them without --jobs. The daemon runs the step last in a tick, after the
 * definitions sync may have changed the jobs. Cheap: the whole list is written only when it
 * changed or this replica's rows went missing; otherwise one update moves last_seen.
 */
export async function publishJobs({ store, registry, config, log }: PublishNeeds): Promise<LoopStep> {
  // The registry's version when its jobs were last published: jobs are never changed in place, so
  // an unchanged version is an unchanged list (with 100,000 jobs, comparing the list itself every
  // loop was a tenth of a second of CPU and its garbage).
  let published: number | undefined;
  const step: LoopStep = {
    name: "publish jobs",
    run: async () => {
      const version = registry.version;
      if (version === published && (await store.catalog.touch()) === registry.size) return;
      published = undefined;
      const jobs: PublishedJob[] = registry.list().map((job) => ({
        name: job.name,
        schedule: job.schedule,
        timezone: job.timezone,
        source: job.source,
        enabled: job.enabled,
      }));
      await store.catalog.publish(jobs, config.intervalSeconds);
      published = version;
    },
  };
  // What this start registers or changes, against what the replicas published before it.
  await auditDefinitionChanges(store, registry, config.runnerId).catch((error) =>
    log.warn({ err: error }, "auditing the job definitions failed: %s", errorMessage(error)),
  );
  await step
    .run()
    .catch((error) => log.warn({ err: error }, "publishing the jobs failed: %s", errorMessage(error)));
  return step;
}
