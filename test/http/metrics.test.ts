import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon as Runner } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";
import { needTool } from "../helpers/tools.js";

const db = await testDatabase("metrics");
let runner: Runner;
let scrape: () => Promise<string>;
let failTicks = false;

/** The value of one sample line, e.g. sample(text, 'job_runs_total{job_name="ok",status="succeeded"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  const made = await sidecarRunner(db.sql, { JOB_RUNNER_ID: "metrics-1" });
  runner = made.runner;
  scrape = async () => (await made.request("/metrics")).text();
  let calls = 0;
  runner.registerJob({ name: "ok", schedule: "@yearly", run: () => "fine" });
  runner.registerJob({ name: "bad", schedule: "@yearly", run: () => Promise.reject(new Error("nope")) });
  runner.registerJob({ name: "ticker", schedule: "* * * * * *", catchUp: "none", run: () => void calls++ });
  runner.registerJob({
    name: "hold",
    schedule: "@yearly",
    run: (ctx) => new Promise((r) => ctx.signal.addEventListener("abort", r)),
  });
  // Its first slot runs until the runner stops; every later slot is skipped (overlap: skip).
  runner.registerJob({
    name: "sticky",
    schedule: "* * * * * *",
    catchUp: "none",
    run: (ctx) => new Promise((r) => ctx.signal.addEventListener("abort", r)),
  });
  runner.registerJob({ name: "ghost", schedule: "@yearly", run: () => {} });
  runner.registerJob({ name: "idle", schedule: "@yearly", run: () => {} });
  runner.addLoopStep({
    name: "flaky",
    run: async () => {
      if (failTicks) throw new Error("flaky step");
    },
  });
  await runner.start();
  // A run of "ghost" whose runner died: the reaper marks it abandoned at the next loop.
  await db.sql`
    insert into job_runs (job_name, trigger, attempt, status, runner_id, lease_until)
    values ('ghost', 'manual', 1, 'running', 'dead-runner', now() - interval '1 minute')`;
  // A tick already under way (the one start() began) may have reaped before the insert: tick
  // until the reaper has seen it.
  await waitFor(async () => {
    await runner.loop!.tick();
    const [row] = await db.sql`select status from job_runs where job_name = 'ghost'`;
    return row!.status === "abandoned";
  });
  await (await runner.triggerJob("ok")).done;
  await (await runner.triggerJob("ok")).done;
  for (let i = 0; i < 3; i++) await (await runner.triggerJob("bad")).done;
  await runner.triggerJob("hold");
  await waitFor(() => calls >= 2, 5000);
  await waitFor(
    async () => (sample(await scrape(), 'job_runs_total{job_name="sticky",status="skipped"}') ?? 0) >= 1,
    5000,
  );
});
afterAll(() => runner.stop());

describe("/metrics", () => {
  it("exposes every metric of the contract with the job_name label", async () => {
    const text = await scrape();
    expect(sample(text, "job_runner_up")).toBe(1);
    expect(sample(text, 'job_runs_total{job_name="ok",status="succeeded"}')).toBe(2);
    expect(sample(text, 'job_runs_total{job_name="bad",status="failed"}')).toBe(3);
    expect(sample(text, 'job_runs_total{job_name="bad",status="succeeded"}')).toBe(0);
    expect(sample(text, 'job_run_duration_seconds_count{job_name="ok"}')).toBe(2);
    expect(sample(text, 'job_consecutive_failures{job_name="bad"}')).toBe(3);
    expect(sample(text, 'job_consecutive_failures{job_name="ok"}')).toBe(0);
    expect(sample(text, 'job_last_success_timestamp_seconds{job_name="ok"}')).toBeCloseTo(
      Date.now() / 1000,
      -1,
    );
    expect(sample(text, 'job_last_success_timestamp_seconds{job_name="bad"}')).toBeUndefined();
    expect(
      sample(text, 'job_next_run_timestamp_seconds{job_name="ticker"}')! - Date.now() / 1000,
    ).toBeLessThanOrEqual(1.01);
    expect(sample(text, 'job_running{job_name="hold"}')).toBe(1);
    expect(sample(text, 'job_running{job_name="ok"}')).toBe(0);
    expect(sample(text, 'job_heartbeat_age_seconds{job_name="jobs-runner"}')).toBeLessThan(5);
    expect(sample(text, 'job_heartbeat_age_seconds{job_name="ok"}')).toBeLessThan(30);
    expect(sample(text, 'job_schedule_delay_seconds_count{job_name="ticker"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'job_schedule_delay_seconds_count{job_name="ok"}')).toBeUndefined();
    expect(sample(text, 'runner_notification_failures_total{kind="webhook"}')).toBe(0);
    expect(sample(text, 'job_runs_total{job_name="ghost",status="abandoned"}')).toBe(1);
    expect(sample(text, 'job_consecutive_failures{job_name="ghost"}')).toBe(1);
    expect(sample(text, 'job_runs_total{job_name="sticky",status="skipped"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'job_running{job_name="sticky"}')).toBe(1);
    // Present from the start, before any run: success and the three kinds of failure.
    for (const status of ["succeeded", "failed", "timed_out", "abandoned"])
      expect(sample(text, `job_runs_total{job_name="idle",status="${status}"}`)).toBe(0);
    expect(sample(text, 'job_run_duration_seconds_bucket{le="+Inf",job_name="ok"}')).toBe(2);
    expect(sample(text, 'job_run_duration_seconds_sum{job_name="bad"}')).toBeLessThan(1);
    expect(
      sample(text, 'job_schedule_delay_seconds_sum{job_name="ticker"}')! /
        sample(text, 'job_schedule_delay_seconds_count{job_name="ticker"}')!,
    ).toBeLessThan(0.5);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/[{,]job="/);
  });

  it("declares each contract metric with its type and only the contract's labels", async () => {
    const scrapedAt = Date.now();
    const text = await scrape();
    const types: Record<string, string> = {
      job_runner_up: "gauge",
      job_heartbeat_age_seconds: "gauge",
      job_runs_total: "counter",
      job_run_duration_seconds: "histogram",
      job_schedule_delay_seconds: "histogram",
      job_consecutive_failures: "gauge",
      job_last_success_timestamp_seconds: "gauge",
      job_next_run_timestamp_seconds: "gauge",
      job_running: "gauge",
      job_paused: "gauge",
      job_overdue_seconds: "gauge",
      runner_notification_failures_total: "counter",
      runner_slots_missed_total: "counter",
      job_slots_total: "counter",
    };
    for (const [name, type] of Object.entries(types)) expect(text).toContain(`# TYPE ${name} ${type}\n`);
    const labels = new Set<string>();
    for (const line of text.split("\n")) {
      if (!/^(job_|runner_)/.test(line)) continue;
      for (const [, key] of line.matchAll(/[{,](\w+)="/g)) labels.add(key!);
    }
    expect([...labels].sort()).toEqual(["fate", "job_name", "kind", "le", "reason", "status"]);
    // Every registered job has its gauges from the start; the loop's own heartbeat too. The next run
    // is not in the past when the scrape began (a per-second job's may pass while it is answered).
    for (const name of runner.registry.names()) {
      expect(sample(text, `job_consecutive_failures{job_name="${name}"}`), name).toBeDefined();
      expect(sample(text, `job_running{job_name="${name}"}`), name).toBeDefined();
      expect(sample(text, `job_paused{job_name="${name}"}`), name).toBe(0);
      expect(sample(text, `job_overdue_seconds{job_name="${name}"}`), name).toBeDefined();
      expect(sample(text, `job_next_run_timestamp_seconds{job_name="${name}"}`), name).toBeGreaterThanOrEqual(
        Math.floor(scrapedAt / 1000),
      );
    }
  });

  it("job_overdue_seconds: 0 on track, and since the grace of the first slot owed when a job has not succeeded", async () => {
    // "idle" (@yearly, grace 1 h + 1 h timeout) has never succeeded; first seen just now it owes nothing.
    expect(sample(await scrape(), 'job_overdue_seconds{job_name="idle"}')).toBe(0);
    // Seen first in mid-2025: it owed 2026-01-01T00:00Z, due by 02:00Z.
    await db.sql`update job_state set first_seen_at = '2025-06-01T00:00:00Z' where job_name = 'idle'`;
    await runner.loop!.tick();
    const since = Date.parse("2026-01-01T02:00:00Z") / 1000;
    const before = Date.now() / 1000;
    const overdue = sample(await scrape(), 'job_overdue_seconds{job_name="idle"}')!;
    expect(overdue).toBeGreaterThanOrEqual(before - since);
    expect(overdue).toBeLessThanOrEqual(Date.now() / 1000 - since);
    // A success of the owed slot puts it back on track.
    await (await runner.triggerJob("idle")).done;
    expect(sample(await scrape(), 'job_overdue_seconds{job_name="idle"}')).toBe(0);
  });

  it("says job_runner_up 0 while the loop's ticks fail, and 1 once they succeed again", async () => {
    failTicks = true;
    await runner.loop!.tick();
    expect(sample(await scrape(), "job_runner_up")).toBe(0);
    failTicks = false;
    await runner.loop!.tick();
    expect(sample(await scrape(), "job_runner_up")).toBe(1);
  });

  it("lets the loop's heartbeat age grow when heartbeats stop", async () => {
    const first = sample(await scrape(), 'job_heartbeat_age_seconds{job_name="jobs-runner"}')!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = sample(await scrape(), 'job_heartbeat_age_seconds{job_name="jobs-runner"}')!;
    expect(later - first).toBeGreaterThan(1);
  });

  it("passes promtool check metrics", async (test) => {
    // Skipped when promtool is missing, failed instead under RUNNER_TEST_REQUIRE_TOOLS=1 (CI).
    const promtool = needTool("promtool", test);
    // promtool reads the exposition on stdin, prints nothing and exits 0 when it has no complaint.
    const check = spawnSync(promtool, ["check", "metrics"], { input: await scrape(), encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });
});
