import { afterEach, describe, expect, it } from "vitest";
import { PER_JOB_AUTO_MAX } from "../../src/observe/metrics.js";
import type { Daemon } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("metrics_per_job");
const started: Daemon[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.stop()));
});

/** A replica with `jobs` yearly jobs, one of which ("ok") has run once; its /metrics text. */
async function scrapeWith(env: Record<string, string>, jobs: number) {
  const made = await sidecarRunner(db.sql, { JOB_RUNNER_ID: `per-job-${jobs}`, ...env });
  started.push(made.runner);
  made.runner.registerJob({ name: "ok", schedule: "@yearly", run: () => "fine" });
  for (let i = 1; i < jobs; i++)
    made.runner.registerJob({ name: `other-${i}`, schedule: "@yearly", run: () => {} });
  await made.runner.start();
  // Ready: the loop's first heartbeat is written, so its series has a value to show.
  await waitFor(async () => (await made.request("/readyz")).status === 200);
  await (await made.runner.triggerJob("ok")).done;
  const text = await (await made.request("/metrics")).text();
  return { text, registered: made.runner.registry.names().length };
}

const jobLines = (text: string) =>
  text
    .split("\n")
    .filter(
      (line) =>
        !line.startsWith("#") && line.includes("job_name=") && !line.includes(`job_name="jobs-runner"`),
    );

describe("METRICS_PER_JOB", () => {
  it("auto writes a series per job for a few jobs", async () => {
    const { text } = await scrapeWith({}, 3);
    expect(text).toContain('job_runs_total{job_name="ok",status="succeeded"} 1');
    expect(text).toMatch(/^job_next_run_timestamp_seconds\{job_name="other-2"\} \d+/m);
    expect(text).toContain('runner_runs_total{status="succeeded"} 1');
  });

  it("off writes no job's series, keeps the replica-wide counts and the loop's heartbeat", async () => {
    const { text, registered } = await scrapeWith({ METRICS_PER_JOB: "off" }, 3);
    expect(jobLines(text)).toEqual([]);
    expect(text).toContain("# TYPE job_runs_total counter");
    expect(text).toMatch(/^job_heartbeat_age_seconds\{job_name="jobs-runner"\} [\d.]+$/m);
    expect(text).toContain('runner_runs_total{status="succeeded"} 1');
    expect(text).toMatch(new RegExp(`^runner_jobs ${registered}$`, "m"));
  });

  it(`auto drops the per-job series above ${PER_JOB_AUTO_MAX} jobs; on keeps them`, async () => {
    const many = await scrapeWith({}, PER_JOB_AUTO_MAX + 1);
    expect(jobLines(many.text)).toEqual([]);
    expect(many.text).toMatch(new RegExp(`^runner_jobs ${many.registered}$`, "m"));
    await started.splice(0)[0]!.stop();
    const forced = await scrapeWith({ METRICS_PER_JOB: "on" }, PER_JOB_AUTO_MAX + 1);
    expect(forced.text).toContain('job_runs_total{job_name="ok",status="succeeded"} 1');
  });
});
