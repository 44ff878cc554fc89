import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Metrics } from "./metrics.js";
import { deliver, OrderedQueue, withPathSuffix } from "./notify.js";
import type { RunEventBus } from "../run/events.js";
import type { TickResult } from "../run/loop.js";

export interface AlertBody {
  /** "paused": the job paused itself (pauseAfterFailures) and runs no more until resumed. */
  status: "firing" | "resolved" | "paused";
  job_name: string;
  consecutive_failures: number;
  last_error: string | null;
  runner_id: string;
  time: string;
  /** Slack incoming webhooks show this field. */
  text: string;
}

/**
 * Consecutive-failure alerts, heartbeat pings and per-job pings. None of it ever delays or fails
 * a job or the loop: deliveries are queued, time out after 5 s, retry twice, then are logged and
 * counted in runner_notification_failures_total. A target that hangs cannot make the queue grow
 * without bound: past 100 waiting deliveries (20 per job ping URL) new ones are dropped and
 * counted, and a heartbeat ping is skipped while the previous one is still going (a dead man's
 * switch only needs the latest).
 *
 * An alert fires when a run takes the job's consecutive failures across ALERT_AFTER_FAILURES and
 * resolves on the first success after that. The counts come from the database, so exactly one
 * replica (the one whose run crossed the threshold) sends each, and never one per failure.
 */
export interface NotificationNeeds {
  events: RunEventBus;
  onTick: (listener: (tick: TickResult) => void) => void;
  config: Pick<Config, "alertWebhookUrl" | "alertAfterFailures" | "heartbeatPingUrl" | "runnerId">;
  metrics: Pick<Metrics, "notificationFailures">;
  log: Logger;
}

export function wireNotifications({ events, onTick, config, metrics, log }: NotificationNeeds): OrderedQueue {
  const queue = new OrderedQueue();
  const failed = (kind: string) => (ok: boolean) => {
    if (!ok) metrics.notificationFailures.inc({ kind });
  };
  const enqueue = (key: string, kind: string, limit: number, send: () => Promise<boolean>) => {
    if (queue.push(key, () => send().then(failed(kind)), limit)) return;
    metrics.notificationFailures.inc({ kind });
    log.warn({ kind }, "%s dropped: %d deliveries to its target are already waiting", kind, limit);
  };
  const webhook = config.alertWebhookUrl;
  const alert = (body: AlertBody) => {
    if (!webhook) return;
    const init = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    };
    enqueue("webhook", "webhook", 100, () =>
      deliver(log, `alert webhook (${body.status} ${body.job_name})`, webhook, init),
    );
  };
  const base = (job: string, failures: number, error: string | null) => ({
    job_name: job,
    consecutive_failures: failures,
    last_error: error,
    runner_id: config.runnerId,
    time: new Date().toISOString(),
  });
  const threshold = config.alertAfterFailures;

  const onFailureCount = (job: string, previous: number, current: number, error: string | null) => {
    if (previous < threshold && current >= threshold) {
      alert({
        status: "firing",
        ...base(job, current, error),
        text: `:rotating_light: ${job} has failed ${current} times in a row: ${error ?? "unknown error"}`,
      });
    } else if (current === 0 && previous >= threshold) {
      alert({
        status: "resolved",
        ...base(job, 0, null),
        text: `:white_check_mark: ${job} succeeded again after ${previous} failures`,
      });
    }
  };
  events.on("finished", (run) => {
    if (run.failures)
      onFailureCount(run.job.name, run.failures.previous, run.failures.current, run.outcome.error ?? null);
    const ping = run.job.ping;
    if (ping) {
      const url = run.outcome.status === "succeeded" ? ping : withPathSuffix(ping, "fail");
      enqueue(`ping:${ping}`, "job_ping", 20, () => deliver(log, `ping of ${run.job.name}`, url));
    }
  });
  events.on("started", (run) => {
    const ping = run.job.ping;
    if (ping)
      enqueue(`ping:${ping}`, "job_ping", 20, () =>
        deliver(log, `start ping of ${run.job.name}`, withPathSuffix(ping, "start")),
      );
  });
  events.on("abandoned", (run) => {
    onFailureCount(
      run.jobName,
      run.consecutiveFailures - 1,
      run.consecutiveFailures,
      "run abandoned: its runner died",
    );
  });
  events.on("paused", ({ jobName, reason, failures }) => {
    alert({
      status: "paused",
      ...base(jobName, failures, reason),
      text: `:double_vertical_bar: ${jobName} paused itself: ${reason}. Resume it with \`runner resume ${jobName}\`.`,
    });
  });
  const heartbeatUrl = config.heartbeatPingUrl;
  if (heartbeatUrl) {
    onTick((tick) => {
      if (!tick.ok) return;
      const send = () =>
        deliver(log, "heartbeat ping", heartbeatUrl, {}, { attempts: 2 }).then(failed("heartbeat_ping"));
      if (!queue.push("heartbeat", send, 1))
        log.debug("heartbeat ping skipped: the previous one is still going");
    });
  }
  return queue;
}
