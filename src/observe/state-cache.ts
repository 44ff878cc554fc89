import type { RunEventBus } from "../run/events.js";
import type { HeartbeatRow, Store } from "../store/store.js";

export interface CachedJobState {
  lastHeartbeat: Date | null;
  lastSuccessAt: Date | null;
  consecutiveFailures: number;
  /** job_state.first_seen_at: where overdue counts from for a job that never succeeded. */
  firstSeenAt: Date | null;
  /** job_state.paused (job_paused). */
  paused: boolean;
}

/**
 * The job_heartbeats rows, kept in memory so a scrape or a probe never waits for the database.
 * Refreshed from the database every loop (other replicas' runs count too) and updated at once
 * by this replica's own run events.
 */
export class StateCache {
  private readonly jobs = new Map<string, CachedJobState>();
  /**
   * Per job, its last heartbeat as a performance.now() instant: aged by the database's clock at
   * each refresh, then on the monotonic one. A step of this host's wall clock does not age it.
   */
  private readonly beats = new Map<string, number>();

  constructor(events: RunEventBus) {
    events.on("finished", (run) => {
      const state = this.ensure(run.job.name);
      state.lastHeartbeat = new Date();
      this.beats.set(run.job.name, performance.now());
      if (run.outcome.status === "succeeded") state.lastSuccessAt = state.lastHeartbeat;
      if (run.failures) state.consecutiveFailures = run.failures.current;
    });
    events.on("paused", ({ jobName }) => {
      this.ensure(jobName).paused = true;
    });
    events.on("abandoned", (run) => {
      this.ensure(run.jobName).consecutiveFailures = run.consecutiveFailures;
    });
  }

  async refresh(store: Store): Promise<void> {
    for (const row of await store.status()) this.apply(row);
    const ages = await store.heartbeatAges();
    const at = performance.now();
    for (const { name, age_seconds } of ages) this.beats.set(name, at - age_seconds * 1000);
  }

  apply(row: HeartbeatRow & { first_seen_at?: Date | null; paused?: boolean }): void {
    this.jobs.set(row.name, {
      lastHeartbeat: row.last_heartbeat,
      lastSuccessAt: row.last_success_at,
      consecutiveFailures: row.consecutive_failures,
      firstSeenAt: row.first_seen_at ?? null,
      paused: row.paused ?? false,
    });
  }

  /** Seconds since the job's last heartbeat (job_heartbeat_age_seconds), or undefined. */
  heartbeatAgeSeconds(name: string, now = performance.now()): number | undefined {
    const beat = this.beats.get(name);
    return beat === undefined ? undefined : Math.max(0, now - beat) / 1000;
  }

  get(name: string): CachedJobState | undefined {
    return this.jobs.get(name);
  }

  private ensure(name: string): CachedJobState {
    let state = this.jobs.get(name);
    if (!state) {
      state = {
        lastHeartbeat: null,
        lastSuccessAt: null,
        consecutiveFailures: 0,
        firstSeenAt: null,
        paused: false,
      };
      this.jobs.set(name, state);
    }
    return state;
  }
}
