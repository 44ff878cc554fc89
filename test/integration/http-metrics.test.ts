import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runner } from "../../src/runner.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("metrics");
let runner: Runner;
let scrape: () => Promise<string>;

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
  await runner.start();
  await (await runner.triggerJob("ok")).done;
  await (await runner.triggerJob("ok")).done;
  for (let i = 0; i < 3; i++) await (await runner.triggerJob("bad")).done;
  await runner.triggerJob("hold");
  await waitFor(() => calls >= 2, 5000);
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
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/[{,]job="/);
  });

  it("lets the loop's heartbeat age grow when heartbeats stop", async () => {
    const first = sample(await scrape(), 'job_heartbeat_age_seconds{job_name="jobs-runner"}')!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = sample(await scrape(), 'job_heartbeat_age_seconds{job_name="jobs-runner"}')!;
    expect(later - first).toBeGreaterThan(1);
  });

  it("passes promtool check metrics", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-promtool-"));
    const file = join(dir, "metrics.txt");
    writeFileSync(file, await scrape());
    // promtool reads the exposition on stdin and prints nothing when it has no complaint.
    const output = execFileSync("sh", ["-c", `promtool check metrics < ${file} 2>&1; echo "exit=$?"`], {
      encoding: "utf8",
    });
    expect(output.trim()).toBe("exit=0");
  });
});
