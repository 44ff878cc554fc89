import type { Config } from "../config.js";
import { errorMessage } from "../errors.js";
import { type EgressPolicy, egressCheck, egressProblem } from "../kinds/egress.js";
import { parseHttpJobDefinition } from "./jobs-file.js";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import type { Job } from "../types.js";
import type { Registry } from "./registry.js";

/** The source of jobs registered over HTTP: they live in job_definitions, shared by every replica. */
export const API_SOURCE = "api";

/**
 * Validate a job definition sent to POST /api/v1/scheduler/jobs. `${NAME}` references are
 * refused: resolving them would let an HTTP caller read this process's environment.
 */
export function parseApiDefinition(input: unknown, egress: EgressPolicy): { job?: Job; problems: string[] } {
  if (JSON.stringify(input ?? null).includes("${")) {
    return { problems: ["${NAME} environment references are only allowed in jobs files"] };
  }
  const parsed = parseHttpJobDefinition(input, {}, egressCheck(egress));
  if (!parsed.job) return parsed;
  // Only a valid job has a URL worth checking; every request is checked again after DNS.
  const url = new URL((input as { http: { url: string } }).http.url);
  const problem = egressProblem(egress, url);
  if (problem) return { problems: [`http.url: ${problem}`] };
  parsed.job.source = API_SOURCE;
  return parsed;
}

/** Where jobs registered over HTTP may send requests, from the configuration. */
export function egressPolicy(config: Pick<Config, "schedulerApiAllowedHosts" | "runnerEnv">): EgressPolicy {
  return { allowedHosts: config.schedulerApiAllowedHosts, production: config.runnerEnv === "production" };
}

/**
 * Keeps this replica's registry in step with job_definitions: new definitions are scheduled,
 * deleted ones cancelled, a re-created one replaced. Runs at every loop tick, so every replica
 * follows within one interval, and after a restart.
 */
export interface DefinitionSyncNeeds {
  store: () => Store;
  registry: Registry;
  addJob: (job: Job) => void;
  cancelJob: (name: string) => boolean;
  log: Logger;
  egress: EgressPolicy;
}

export function syncDefinitions({
  store,
  registry,
  addJob,
  cancelJob,
  log,
  egress,
}: DefinitionSyncNeeds): () => Promise<void> {
  const loaded = new Map<string, number>();
  return async () => {
    for (const row of await store().definitions()) {
      const version = row.created_at.getTime();
      const current = registry.get(row.name);
      if (row.deleted_at) {
        if (current?.source === API_SOURCE) cancelJob(row.name);
        loaded.delete(row.name);
        continue;
      }
      if (current && (current.source !== API_SOURCE || loaded.get(row.name) === version)) continue;
      const parsed = parseApiDefinition(row.definition, egress);
      if (!parsed.job) {
        log.warn(
          { job_name: row.name, problems: parsed.problems },
          "stored job definition is invalid; skipped",
        );
        continue;
      }
      if (current) cancelJob(row.name);
      try {
        addJob(parsed.job);
        loaded.set(row.name, version);
        log.info({ job_name: row.name, schedule: parsed.job.schedule }, "job registered over HTTP loaded");
      } catch (error) {
        log.warn(
          { job_name: row.name },
          "could not load a job registered over HTTP: %s",
          errorMessage(error),
        );
      }
    }
  };
}
