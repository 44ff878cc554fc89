import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { JobSeries } from "./job-series.js";
import type { Registry as JobRegistry } from "../jobs/registry.js";
import type { RunEventBus } from "../run/events.js";
import type { Liveness } from "../run/liveness.js";
import type { StateCache } from "./state-cache.js";
import { OverdueClock } from "../schedule/overdue.js";
import { RUNNER_ROW } from "../store/store.js";

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

/** Exactly what the metrics read: run events, liveness, the registry and the schedule. */
export interface MetricsNeeds {
  events: RunEventBus;
  liveness: Liveness;
  registry: JobRegistry;
  cache: StateCache;
  nextRunAt: (job: string) => Date | undefined;
  runningCount: (job: string) => number;
  /** METRICS_PER_JOB: whether the per-job families have a series per job (auto: up to PER_JOB_AUTO_MAX jobs). */
  perJob: "auto" | "on" | "off";
}

/**
 * Above this many jobs, METRICS_PER_JOB=auto drops the per-job series: at 100,000 jobs a scrape was
 * 50 MB and took seconds (every job's overdue, next run and histograms), longer than a scrape
 * interval is worth. 10,000 jobs render in about a tenth of a second.
 */
export const PER_JOB_AUTO_MAX = 10_000;

/**
 * The daemon's metrics. prom-client, in the daemon's own registry (never the global one), keeps
 * the process and Node.js metrics, job_runner_up and the notification counter; the per-job
 * families (thousands of series) are written by JobSeries, which renders them about ten times
 * faster. Counters and histograms are fed by run events; gauges are computed at scrape time from
 * memory, so a scrape never waits for the database. Labels are bounded: job_name and status only
 * (never `job`, which Prometheus reserves).
 */
export function createMetrics({
  events,
  liveness,
  registry: jobs,
  cache,
  nextRunAt,
  runningCount,
  perJob,
}: MetricsNeeds): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  removeNonCounterTotals(registry);
  const overdue = new OverdueClock();

  new Gauge({
    name: "job_runner_up",
    help: "1 while the runner's loop is healthy, 0 while starting, stopping, stalled or failing",
    registers: [registry],
    collect() {
      this.set(liveness.isUp() ? 1 : 0);
    },
  });
  const notificationFailures = new Counter({
    name: "runner_notification_failures_total",
    help: "Alert webhooks and pings that failed after their retries",
    labelNames: ["kind"],
    registers: [registry],
  });
  for (const kind of ["webhook", "heartbeat_ping", "job_ping"]) notificationFailures.inc({ kind }, 0);
  const missed = new Counter({
    name: "runner_slots_missed_total",
    help: "Slots this replica could not claim in time: overloaded (the database was seconds behind; catch-up policy decides whether they run later) or at capacity (recorded skipped when no replica had room)",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of ["overloaded", "at capacity"]) missed.inc({ reason }, 0);
  events.on("missed", ({ reason, slots }) => missed.inc({ reason }, slots));

  const series = new JobSeries(
    {
      job_run_duration_seconds: { help: "Duration of finished runs", buckets: DURATION_BUCKETS },
      job_schedule_delay_seconds: {
        help: "Handler start minus the scheduled instant, for schedule and catch-up runs",
        buckets: DELAY_BUCKETS,
      },
    },
    INITIAL_STATUSES,
  );
  events.on("finished", (run) => {
    series.incRun(run.job.name, run.outcome.status);
    series.observe("job_run_duration_seconds", run.job.name, run.outcome.durationMs / 1000);
  });
  events.on("started", (run) => {
    if (run.scheduledFor && (run.trigger === "schedule" || run.trigger === "catch-up")) {
      const delay = Math.max(0, run.startedAt.getTime() - run.scheduledFor.getTime()) / 1000;
      series.observe("job_schedule_delay_seconds", run.job.name, delay);
    }
  });
  events.on("skipped", (skip) => {
    series.incRun(skip.job.name, "skipped");
    if (skip.scheduledFor) series.incSlots(skip.job.name, "skipped", 1);
  });
  // A slot's fate is counted once, by the replica that recorded it: its first attempt's end, a
  // skip, or the slot ledger's write (paused, missed, dropped).
  events.on("finished", (run) => {
    if (!run.scheduledFor || run.attempt !== 1) return;
    const trigger: string = run.trigger;
    const fate = trigger === "catch-up" ? "caught-up" : trigger === "backfill" ? "backfilled" : "ran";
    series.incSlots(run.job.name, fate, 1);
  });
  events.on("slots", ({ jobName, fate, count }) => series.incSlots(jobName, fate, count));
  events.on("abandoned", (run) => series.incRun(run.jobName, "abandoned"));

  const gauges = [
    {
      name: "job_heartbeat_age_seconds",
      help: "Seconds since the heartbeat of the loop (job_name=jobs-runner, this replica's own) or of each job's last run",
      extra: (): [string, number][] => {
        // On the monotonic clock: a wall-clock step must not read as a stale heartbeat.
        const age = liveness.heartbeatAgeSeconds();
        return age === undefined ? [] : [[RUNNER_ROW, age]];
      },
      // Aged by the database's clock, then the monotonic one (see StateCache.heartbeatAgeSeconds).
      value: (job: string) => cache.heartbeatAgeSeconds(job),
    },
    {
      name: "job_consecutive_failures",
      help: "Consecutive failed runs of each job (0 after a success)",
      value: (job: string) => cache.get(job)?.consecutiveFailures ?? 0,
    },
    {
      name: "job_last_success_timestamp_seconds",
      help: "Unix time of each job's last successful run (absent until the first)",
      value: (job: string) => {
        const at = cache.get(job)?.lastSuccessAt;
        return at ? at.getTime() / 1000 : undefined;
      },
    },
    {
      name: "job_next_run_timestamp_seconds",
      help: "Unix time of each job's next scheduled instant",
      value: (job: string) => {
        const next = nextRunAt(job);
        return next ? next.getTime() / 1000 : undefined;
      },
    },
    {
      name: "job_overdue_seconds",
      help: "Seconds the job's latest slot past its grace (misfireGraceSeconds + timeout) has gone without a success; 0 on track",
      value: (job: string) => {
        const found = jobs.get(job);
        return found ? overdue.overdue(found, cache.get(job), Date.now()).overdueSeconds : undefined;
      },
    },
    {
      name: "job_paused",
      help: "1 while the job is paused (runner pause, the admin API, pauseAfterFailures), else 0; the reason, owner and expiry are in the admin status",
      value: (job: string) => (cache.get(job)?.paused ? 1 : 0),
    },
    {
      name: "job_running",
      help: "Runs of each job going on in this replica now",
      value: (job: string) => runningCount(job),
    },
  ];

  // Replica-wide, whatever METRICS_PER_JOB says: what is left to watch when per-job series are off.
  const runsTotal = new Counter({
    name: "runner_runs_total",
    help: "Runs recorded by this replica, all jobs together, by final status of each attempt",
    labelNames: ["status"],
    registers: [registry],
  });
  for (const status of INITIAL_STATUSES) runsTotal.inc({ status }, 0);
  events.on("finished", (run) => runsTotal.inc({ status: run.outcome.status }));
  events.on("skipped", () => runsTotal.inc({ status: "skipped" }));
  events.on("abandoned", () => runsTotal.inc({ status: "abandoned" }));
  new Gauge({
    name: "runner_jobs",
    help: "Jobs registered in this replica",
    registers: [registry],
    collect() {
      this.set(jobs.size);
    },
  });

  const render = async () => {
    const text = await registry.metrics();
    // Yield once between the two halves, so a large scrape holds the event loop half as long.
    await new Promise((resolve) => setImmediate(resolve));
    const names = jobs.names();
    const each = perJob === "on" || (perJob === "auto" && names.length <= PER_JOB_AUTO_MAX);
    // Off: the families keep their HELP and TYPE and the loop's own heartbeat series, no job's.
    return `${text}\n${series.render(each ? names : [], gauges)}`;
  };
  return { registry, notificationFailures, render };
}
