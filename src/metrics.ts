import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Runner } from "./runner.js";
import type { StateCache } from "./state-cache.js";
import { RUNNER_ROW } from "./store.js";

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2, 10, 60];
/** The statuses of job_runs_total present from the start: success and the three kinds of failure. */
const INITIAL_STATUSES = ["succeeded", "failed", "timed_out", "abandoned"];

export interface Metrics {
  registry: Registry;
  notificationFailures: Counter<"kind">;
  render(): Promise<string>;
}

/**
 * prom-client's default metrics include nodejs_active_{handles,requests,resources}_total: gauges
 * with a counter's suffix, which `promtool check metrics` rejects. The same measurements are
 * also exposed without the suffix (nodejs_active_handles, ...), so the suffixed copies go.
 */
function removeNonCounterTotals(registry: Registry): void {
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }
}

/** job_runner_up: the runner is running and its loop ticked recently and successfully. */
export function runnerUp(runner: Runner): boolean {
  const loop = runner.loop;
  return runner.state === "running" && !!loop && !loop.isStalled() && loop.lastTick?.ok === true;
}

/**
 * The daemon's own prom-client registry (never the global one). Counters and histograms are fed
 * by run events; gauges are computed at scrape time from memory, so a scrape never waits for the
 * database. Labels are bounded: job_name and status only (never `job`, which Prometheus reserves).
 */
export function createMetrics(runner: Runner, cache: StateCache): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  removeNonCounterTotals(registry);
  const jobNames = () => runner.registry.names();
  const now = () => Date.now() / 1000;

  new Gauge({
    name: "job_runner_up",
    help: "1 while the runner's loop is healthy, 0 while starting, stopping, stalled or failing",
    registers: [registry],
    collect() {
      this.set(runnerUp(runner) ? 1 : 0);
    },
  });
  new Gauge({
    name: "job_heartbeat_age_seconds",
    help: "Seconds since the heartbeat of the loop (job_name=jobs-runner, this replica's own) or of each job's last run",
    labelNames: ["job_name"],
    registers: [registry],
    collect() {
      this.reset();
      if (runner.lastHeartbeatAt)
        this.set({ job_name: RUNNER_ROW }, now() - runner.lastHeartbeatAt.getTime() / 1000);
      for (const name of jobNames()) {
        const beat = cache.get(name)?.lastHeartbeat;
        if (beat) this.set({ job_name: name }, now() - beat.getTime() / 1000);
      }
    },
  });
  const runs = new Counter({
    name: "job_runs_total",
    help: "Runs recorded by this replica, by final status of each attempt",
    labelNames: ["job_name", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "job_run_duration_seconds",
    help: "Duration of finished runs",
    labelNames: ["job_name"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const delay = new Histogram({
    name: "job_schedule_delay_seconds",
    help: "Handler start minus the scheduled instant, for schedule and catch-up runs",
    labelNames: ["job_name"],
    buckets: DELAY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "job_consecutive_failures",
    help: "Consecutive failed runs of each job (0 after a success)",
    labelNames: ["job_name"],
    registers: [registry],
    collect() {
      this.reset();
      for (const name of jobNames()) this.set({ job_name: name }, cache.get(name)?.consecutiveFailures ?? 0);
    },
  });
  new Gauge({
    name: "job_last_success_timestamp_seconds",
    help: "Unix time of each job's last successful run (absent until the first)",
    labelNames: ["job_name"],
    registers: [registry],
    collect() {
      this.reset();
      for (const name of jobNames()) {
        const at = cache.get(name)?.lastSuccessAt;
        if (at) this.set({ job_name: name }, at.getTime() / 1000);
      }
    },
  });
  new Gauge({
    name: "job_next_run_timestamp_seconds",
    help: "Unix time of each job's next scheduled instant",
    labelNames: ["job_name"],
    registers: [registry],
    collect() {
      this.reset();
      for (const name of jobNames()) {
        const next = runner.scheduler.nextRunAt(name);
        if (next) this.set({ job_name: name }, next.getTime() / 1000);
      }
    },
  });
  new Gauge({
    name: "job_running",
    help: "Runs of each job going on in this replica now",
    labelNames: ["job_name"],
    registers: [registry],
    collect() {
      this.reset();
      for (const name of jobNames()) this.set({ job_name: name }, runner.executor?.runningCount(name) ?? 0);
    },
  });
  const notificationFailures = new Counter({
    name: "runner_notification_failures_total",
    help: "Alert webhooks and pings that failed after their retries",
    labelNames: ["kind"],
    registers: [registry],
  });
  for (const kind of ["webhook", "heartbeat_ping", "job_ping"]) notificationFailures.inc({ kind }, 0);

  runner.events.on("finished", (run) => {
    runs.inc({ job_name: run.job.name, status: run.outcome.status });
    duration.observe({ job_name: run.job.name }, run.outcome.durationMs / 1000);
  });
  runner.events.on("started", (run) => {
    if (run.scheduledFor && (run.trigger === "schedule" || run.trigger === "catch-up")) {
      delay.observe(
        { job_name: run.job.name },
        Math.max(0, run.startedAt.getTime() - run.scheduledFor.getTime()) / 1000,
      );
    }
  });
  runner.events.on("skipped", (skip) => runs.inc({ job_name: skip.job.name, status: "skipped" }));
  runner.events.on("abandoned", (run) => runs.inc({ job_name: run.jobName, status: "abandoned" }));

  /**
   * Counter series exist from the start for every known job (also one registered later), so
   * increase() counts the first run and absent() means what it says. Only the outcomes alerts
   * are written on: skipped and interrupted appear when they first happen. Histograms are not
   * pre-filled: that would be 14 series per job each, in every scrape, before any run.
   */
  const initialise = () => {
    for (const name of jobNames())
      for (const status of INITIAL_STATUSES) runs.inc({ job_name: name, status }, 0);
  };
  initialise();
  /**
   * registry.metrics() renders every metric in one go, and with thousands of jobs that holds the
   * event loop for tens of milliseconds and delays due jobs; yielding between metrics bounds the
   * hold to the largest single metric. The text is the same as registry.metrics() writes.
   */
  const render = async () => {
    initialise();
    const parts: string[] = [];
    for (const metric of registry.getMetricsAsArray()) {
      parts.push(await registry.getSingleMetricAsString(metric.name));
      await new Promise((resolve) => setImmediate(resolve));
    }
    return `${parts.join("\n\n")}\n`;
  };
  return { registry, notificationFailures, render };
}
