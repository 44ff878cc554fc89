import { ConfigError } from "../errors.js";
import { unknownJobMessage } from "../jobs/registry.js";
import type { JobStatus } from "../observe/status.js";
import type { Daemon } from "../run/daemon.js";
import { nextInstant } from "../schedule/cron.js";
import { type CatalogEntry, RUNNER_ROW, type Store } from "../store/store.js";
import { iso } from "../util/iso.js";

/**
 * What management commands know of jobs beyond this process's registry: the jobs every replica
 * publishes (job_catalog), so `trigger hello` works without the --jobs of the daemon that runs it.
 */

/**
 * The job `name` in the local registry or the catalog (its entry there, if any); otherwise a
 * ConfigError listing every known job, `alsoKnown` included.
 */
export async function requireKnownJob(
  daemon: Daemon,
  store: Store,
  name: string,
  alsoKnown: readonly string[] = [],
): Promise<CatalogEntry | undefined> {
  const entries = await store.catalog.entries();
  const published = entries.find((entry) => entry.name === name);
  if (daemon.registry.has(name) || published) return published;
  const known = new Set([...daemon.registry.names(), ...entries.map((entry) => entry.name), ...alsoKnown]);
  throw new ConfigError(unknownJobMessage(name, [...known].sort()));
}

/** One line for stderr when no live replica runs the job, or undefined when one does. */
export function noLiveReplicaWarning(name: string, published: CatalogEntry | undefined): string | undefined {
  if (published && published.replicas.length > 0) return undefined;
  const seen = published ? ` (last seen ${iso(published.last_seen)})` : "";
  return `warning: no live replica runs ${name}${seen}; the request waits until one does`;
}

/**
 * Status rows with what the catalog knows: the definition and next run of jobs this process does
 * not define, and for every job the live replicas that run it.
 */
export function withPublished(
  rows: JobStatus[],
  entries: CatalogEntry[],
  now = new Date(),
): (JobStatus & { replicas?: string[] })[] {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  return rows.map((row) => {
    const entry = row.name === RUNNER_ROW ? undefined : byName.get(row.name);
    if (!entry) return row;
    if (row.schedule !== undefined) return { ...row, replicas: entry.replicas };
    return {
      ...row,
      schedule: entry.schedule,
      timezone: entry.timezone,
      source: entry.source,
      enabled: entry.enabled,
      next_run_at: entry.enabled ? iso(nextOf(entry, now)) : null,
      replicas: entry.replicas,
    };
  });
}

/** The next instant of a published schedule; null when this runner cannot read it. */
function nextOf(entry: CatalogEntry, now: Date): Date | null {
  try {
    return nextInstant(entry.schedule, entry.timezone, now);
  } catch {
    return null;
  }
}
