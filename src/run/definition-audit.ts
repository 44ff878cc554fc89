import type { Registry } from "../jobs/registry.js";
import { type AuditEvent, AuditStore } from "../store/audit.js";
import type { Store } from "../store/store.js";
import { RUNNER_ACTOR } from "./pausing.js";

/** The fields of a job the catalog keeps, so a deploy that changes them can be told. */
const FIELDS = ["schedule", "timezone", "enabled"] as const;

/**
 * At a replica's start, before it publishes its jobs: a job of its registry that the catalog
 * (job_catalog, every replica's published jobs) does not know is a registration, and one whose
 * schedule, time zone or enabled flag differs from the newest published definition is a
 * definition change; each is an audit event of the runner, naming this replica. Jobs registered
 * over HTTP are audited when they are registered. Replicas starting together with the same change
 * may each record it.
 */
export async function auditDefinitionChanges(
  store: Store,
  registry: Registry,
  runnerId: string,
): Promise<void> {
  const known = new Map((await store.catalog.entries()).map((entry) => [entry.name, entry]));
  const events: AuditEvent[] = [];
  for (const job of registry.list()) {
    if (job.source === "api") continue;
    const before = known.get(job.name);
    if (!before) {
      events.push({
        actor: RUNNER_ACTOR,
        action: "register",
        jobName: job.name,
        details: { runner_id: runnerId, source: job.source, schedule: job.schedule, timezone: job.timezone },
      });
      continue;
    }
    const changed = FIELDS.filter((field) => before[field] !== job[field]);
    if (changed.length === 0) continue;
    events.push({
      actor: RUNNER_ACTOR,
      action: "change",
      jobName: job.name,
      details: {
        runner_id: runnerId,
        source: job.source,
        before: Object.fromEntries(changed.map((field) => [field, before[field]])),
        after: Object.fromEntries(changed.map((field) => [field, job[field]])),
      },
    });
  }
  // One statement: a first start with 100,000 jobs is 100,000 registrations.
  await new AuditStore(store.sql).recordMany(events);
}
