import type { Loop } from "./loop.js";

export type RunnerState = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * What the probes and job_runner_up know about this process: its lifecycle state, its loop, and
 * when it last wrote its own heartbeat. The daemon moves the state; housekeeping notes heartbeats.
 */
export class Liveness {
  #state: RunnerState = "new";
  #loop: Loop | undefined;
  #lastHeartbeatAt: Date | undefined;
  /** performance.now() of the last heartbeat: its age must not jump with the wall clock. */
  #lastHeartbeatMono: number | undefined;

  get state(): RunnerState {
    return this.#state;
  }

  /** When this replica last wrote its heartbeat row: what /readyz and job_heartbeat_age_seconds report. */
  get lastHeartbeatAt(): Date | undefined {
    return this.#lastHeartbeatAt;
  }

  get loop(): Loop | undefined {
    return this.#loop;
  }

  moveTo(state: RunnerState): void {
    this.#state = state;
  }

  watch(loop: Loop): void {
    this.#loop = loop;
  }

  heartbeatWritten(at = new Date()): void {
    this.#lastHeartbeatAt = at;
    this.#lastHeartbeatMono = performance.now();
  }

  /**
   * Seconds since this replica last wrote its heartbeat, on the monotonic clock (what /readyz
   * and job_heartbeat_age_seconds report), or undefined before the first one.
   */
  heartbeatAgeSeconds(now = performance.now()): number | undefined {
    return this.#lastHeartbeatMono === undefined ? undefined : (now - this.#lastHeartbeatMono) / 1000;
  }

  /** Running, but no loop tick has completed for too long (/livez answers 503). */
  isStalled(): boolean {
    return this.#state === "running" && !!this.#loop?.isStalled();
  }

  /** job_runner_up: running, and the loop ticked recently and successfully. */
  isUp(): boolean {
    const loop = this.#loop;
    return this.#state === "running" && !!loop && !loop.isStalled() && loop.lastTick?.ok === true;
  }
}
