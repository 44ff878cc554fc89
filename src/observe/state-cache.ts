import type { RunEventBus } from "../run/events.js";
import type { HeartbeatRow, Store } from "../store/store.js";

export interface CachedJobState {
  lastHeartbeat: Date | null;
  lastSuccessAt: Date | null;
  consecutiveFailures: number;
  /** job_state.first_seen_at: where overdue counts from for a job that never succeeded. */
  firstSeenAt: Date | null;
}

/**
 * The job_heartbeats rows, kept in memory so a scrape or a probe never waits for the database.
 * Refreshed from the database every loop (other replicas' runs count too) and updated at once
 * by this replica's own run events.
 */
export class StateCache {
  private readonly jobs = new Map<string, CachedJobState>();

  constructor(events: RunEventBus) {
    events.on("finished", (run) => {
      const state = this.ensure(run.job.name);
      state.lastHeartbeat = new Date();
      if (run.outcome.status === "succeeded") state.lastSuccessAt = state.lastHeartbeat;
      if (run.failures) state.consecutiveFailures = run.failures.current;
    });
    events.on("abandoned", (run) => {
      this.ensure(run.jobName).consecutiveFailures = run.consecutiveFailures;
    });
  }

  async refresh(store: Store): Promise<void> {
    for (const row of await store.status()) this.apply(row);
  }

  apply(row: HeartbeatRow & { first_seen_at?: Date | null }): void {
    this.jobs.set(row.name, {
      lastHeartbeat: row.last_heartbeat,
      lastSuccessAt: row.last_success_at,
      consecutiveFailures: row.consecutive_failures,
      firstSeenAt: row.first_seen_at ?? null,
    });
  }

  get(name: string): CachedJobState | undefined {
    return this.jobs.get(name);
  }

  private ensure(name: string): CachedJobState {
    let state = this.jobs.get(name);
    if (!state) {
      state = { lastHeartbeat: null, lastSuccessAt: null, consecutiveFailures: 0, firstSeenAt: null };
      this.jobs.set(name, state);
    }
    return state;
  }
}
