import type { Sql } from "postgres";
import type { RunOutcome } from "../types.js";
import { BackfillStore } from "./backfills.js";
import { CatalogStore } from "./catalog.js";
import { DefinitionStore } from "./definitions.js";
import type { KnownJobs, StoreScope } from "./fragments.js";
import { JobStore } from "./jobs.js";
import { type FinishedRun, OutcomeStore } from "./outcomes.js";
import { ReleaseStore } from "./releases.js";
import { RetryStore } from "./retries.js";
import { SlotStore } from "./slots.js";
import { type NewRun, RunStore, type SlotClaim } from "./runs.js";
import { type NewTrigger, TriggerStore } from "./triggers.js";

/**
 * Every SQL statement of the runner lives in src/store/, one module per table (runs, triggers,
 * jobs, definitions); callers see plain rows. Store is the one object they hold: it composes
 * those modules and keeps the names and signatures callers have always used.
 */

export {
  type BackfillRequest,
  type ClaimedBackfill,
  MAX_OPEN_BACKFILLS,
  type SlotState,
} from "./backfills.js";
export type { CatalogEntry, PublishedJob } from "./catalog.js";
export {
  DefinitionLimitError,
  type DefinitionRow,
  type DefinitionVersion,
  MAX_DEFINITION_BYTES,
  MAX_DEFINITIONS,
} from "./definitions.js";
export type { KnownJobs, StoreScope } from "./fragments.js";
export { type HeartbeatRow, RUNNER_ROW } from "./jobs.js";
export {
  type ClaimedSlot,
  FAILURE_STATUSES,
  type FailureCount,
  type NewRun,
  type RunProgress,
  type RunRow,
  type SlotClaim,
} from "./runs.js";
export type { FinishedRun } from "./outcomes.js";
export type { ReleasedSlot } from "./releases.js";
export type { NewRetry, PendingRetry, TakenRetry } from "./retries.js";
export type { LedgerFate, SlotRange } from "./slots.js";
export type { NewTrigger, TriggerRequest, TriggerRow } from "./triggers.js";

export class Store {
  /** job_catalog (src/store/catalog.ts): the jobs each replica publishes. */
  readonly catalog: CatalogStore;
  /** job_retries (src/store/retries.ts): retries waiting for their backoff. */
  readonly retries: RetryStore;
  /** job_backfills and backfill claims (src/store/backfills.ts). */
  readonly backfills: BackfillStore;
  /** job_slots and job_runner_spans (src/store/slots.ts): the slot ledger and when replicas were up. */
  readonly slots: SlotStore;
  private readonly runs: RunStore;
  private readonly triggers: TriggerStore;
  private readonly jobs: JobStore;
  private readonly definitionStore: DefinitionStore;
  private readonly outcomes: OutcomeStore;
  private readonly releases: ReleaseStore;

  constructor(
    readonly sql: Sql,
    runnerId: string,
    leaseSeconds: number,
  ) {
    const scope: StoreScope = { sql, runnerId, leaseSeconds };
    this.catalog = new CatalogStore(scope);
    this.retries = new RetryStore(scope);
    this.backfills = new BackfillStore(scope);
    this.slots = new SlotStore(scope);
    this.runs = new RunStore(scope);
    this.triggers = new TriggerStore(scope);
    this.jobs = new JobStore(scope);
    this.definitionStore = new DefinitionStore(scope);
    this.outcomes = new OutcomeStore(scope);
    this.releases = new ReleaseStore(scope);
  }

  // job_runs (src/store/runs.ts)
  claimSlots(claims: SlotClaim[]) {
    return this.runs.claimSlots(claims);
  }
  recordMissed(slots: { jobName: string; scheduledFor: Date }[], reason: string) {
    return this.runs.recordMissed(slots, reason);
  }
  insertRun(run: NewRun) {
    return this.runs.insertRun(run);
  }
  /** Record outcomes that finished together in one statement (src/store/outcomes.ts). */
  finishRuns(runs: readonly FinishedRun[]) {
    return this.outcomes.finishRuns(runs);
  }
  finishRun(id: string, jobName: string, outcome: RunOutcome) {
    return this.outcomes.finishRuns([{ id, jobName, outcome }]).then(([failures]) => failures);
  }
  renewLeases(ids: string[]) {
    return this.runs.renewLeases(ids);
  }
  reapAbandoned() {
    return this.runs.reapAbandoned();
  }
  markInterrupted(ids: string[], reason: string) {
    return this.runs.markInterrupted(ids, reason);
  }
  setProgress(runId: string, done: number, total: number | null) {
    return this.runs.setProgress(runId, done, total);
  }
  isRunning(jobName: string) {
    return this.runs.isRunning(jobName);
  }
  history(jobName: string, limit: number) {
    return this.runs.history(jobName, limit);
  }
  lastFinishedRun(jobName: string) {
    return this.runs.lastFinishedRun(jobName);
  }

  // job_released_slots (src/store/releases.ts)
  releaseClaims(ids: string[]) {
    return this.releases.releaseClaims(ids);
  }
  takeReleased(known: KnownJobs, limit?: number) {
    return this.releases.takeReleased(known, limit);
  }

  // job_triggers (src/store/triggers.ts)
  requestTrigger(request: NewTrigger) {
    return this.triggers.requestTrigger(request);
  }
  claimTriggers(known: KnownJobs, limit?: number) {
    return this.triggers.claimTriggers(known, limit);
  }
  attachTriggerRun(triggerId: string, runId: string) {
    return this.triggers.attachTriggerRun(triggerId, runId);
  }
  idempotentTrigger(jobName: string, key: string, params: Record<string, string>) {
    return this.triggers.idempotentTrigger(jobName, key, params);
  }
  triggerRunId(triggerId: string) {
    return this.triggers.triggerRunId(triggerId);
  }
  releaseTrigger(triggerId: string) {
    return this.triggers.releaseTrigger(triggerId);
  }

  // job_heartbeats, job_state, job_runners (src/store/jobs.ts)
  heartbeat(info: { hostname: string; pid: number; version: string }, runsJobs?: boolean) {
    return this.jobs.heartbeat(info, runsJobs);
  }
  runnerHeartbeat() {
    return this.jobs.runnerHeartbeat();
  }
  heartbeatAges() {
    return this.jobs.heartbeatAges();
  }
  /** job_runners.stopped_at, and the end of this replica's span (job_runner_spans). */
  async markRunnerStopped() {
    await Promise.all([this.jobs.markRunnerStopped(), this.slots.endSpans()]);
  }
  registerJobs(names: string[]) {
    return this.jobs.registerJobs(names);
  }
  setPaused(jobName: string, paused: boolean, by: string) {
    return this.jobs.setPaused(jobName, paused, by);
  }
  status(only?: string) {
    return this.jobs.status(only);
  }

  // job_definitions (src/store/definitions.ts)
  saveDefinition(name: string, definition: unknown) {
    return this.definitionStore.saveDefinition(name, definition);
  }
  deleteDefinition(name: string) {
    return this.definitionStore.deleteDefinition(name);
  }
  definitions() {
    return this.definitionStore.definitions();
  }
  definitionVersions() {
    return this.definitionStore.definitionVersions();
  }
  definitionsByName(names: string[]) {
    return this.definitionStore.definitionsByName(names);
  }
  purgeDeletedDefinitions() {
    return this.definitionStore.purgeDeletedDefinitions();
  }
}
