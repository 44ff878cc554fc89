import { afterEach, describe, expect, it, vi } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

// Item 13: the wall clock steps forward (NTP, a resumed VM). How long this process has gone
// without a loop tick or a heartbeat is measured on the monotonic clock, so the probes do not
// read the step as a stall. The step is simulated by faking Date only (timers stay real).
const db = await testDatabase("clockstep");
let runner: Daemon | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await runner?.stop();
});

interface Ready {
  checks: { name: string; status: string; [key: string]: unknown }[];
}

describe("a wall-clock step forward", () => {
  it("is not a stall: /livez stays 200, /readyz and the heartbeat age metric stay small", async () => {
    // A 60 s loop: no tick comes between the step and the probes.
    const made = await sidecarRunner(db.sql, { JOB_LOOP_INTERVAL_SECONDS: "60" });
    runner = made.runner;
    runner.registerJob({ name: "yearly", schedule: "@yearly", run: () => {} });
    await runner.start();
    // Ready (the heartbeat is written) and up (the first tick has completed, which under load
    // can come after the heartbeat step): only then is a later 0 the step's doing.
    await waitFor(async () => {
      const answer = await made.request("/readyz");
      const body = (await answer.json()) as Ready;
      return answer.status === 200 && body.checks.find((c) => c.name === "runner")?.up === true;
    });

    vi.setSystemTime(Date.now() + 600_000);
    const live = await made.request("/livez");
    const ready = await made.request("/readyz");
    const metrics = await (await made.request("/metrics")).text();
    vi.useRealTimers();

    expect(live.status).toBe(200);
    expect(ready.status).toBe(200);
    const jobs = ((await ready.json()) as Ready).checks.find((c) => c.name === "jobs")!;
    expect(jobs.age_seconds).toBeLessThan(5);
    const age = Number(/^job_heartbeat_age_seconds\{job_name="jobs-runner"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(age).toBeLessThan(5);
    // A job's heartbeat (its row, written at registration) is aged by the database's clock.
    const jobAge = Number(/^job_heartbeat_age_seconds\{job_name="yearly"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(jobAge).toBeLessThan(5);
    expect(metrics).toMatch(/^job_runner_up 1$/m);
  });
});
