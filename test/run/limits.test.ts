import { afterEach, describe, expect, it } from "vitest";
import { startOf } from "../../src/run/admission.js";
import type { Daemon } from "../../src/run/daemon.js";
import type { JobInput } from "../../src/types.js";
import { testDatabase } from "../helpers/db.js";
import { job } from "../helpers/jobs.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("limits");
const daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  await db.sql`truncate job_runs, job_heartbeats, job_state cascade`;
});

function replicas(
  count: number,
  jobs: Omit<JobInput, "run">[],
  holdMs: number,
  env: Record<string, string> = {},
) {
  const running = new Map<string, number>();
  const peaks = { job: 0, all: 0 };
  let now = 0;
  const made = Array.from({ length: count }, (_, i) => {
    const { runner } = testRunner(db.sql, { JOB_RUNNER_ID: `r${i}`, LOG_LEVEL: "warn", ...env });
    for (const spec of jobs)
      runner.registerJob({
        ...spec,
        run: async (ctx) => {
          running.set(ctx.jobName, (running.get(ctx.jobName) ?? 0) + 1);
          now++;
          peaks.job = Math.max(peaks.job, running.get(ctx.jobName)!);
          peaks.all = Math.max(peaks.all, now);
          await new Promise((resolve) => setTimeout(resolve, holdMs));
          running.set(ctx.jobName, running.get(ctx.jobName)! - 1);
          now--;
        },
      });
    daemons.push(runner);
    return runner;
  });
  return { made, peaks };
}

const skipped = (text: string) =>
  db.sql`select count(*)::int as n from job_runs where status = 'skipped' and error like ${`%${text}%`}`.then(
    ([row]) => row!.n as number,
  );
const succeeded = () =>
  db.sql`select count(*)::int as n from job_runs where status = 'succeeded'`.then(
    ([row]) => row!.n as number,
  );

describe("limits across replicas", () => {
  it("concurrency: N bounds a job's runs at once on every replica together", async () => {
    const { made, peaks } = replicas(
      2,
      [{ name: "capped", schedule: "* * * * * *", overlap: "allow", catchUp: "none", concurrency: 2 }],
      2500,
    );
    await Promise.all(made.map((r) => r.start()));
    await waitFor(async () => (await skipped("concurrency limit reached (2 running)")) >= 2, 15_000);
    await waitFor(async () => (await succeeded()) >= 2, 15_000);
    expect(peaks.job).toBe(2);
  });

  it("group: jobs of one group never run beyond the group's limit, whichever replica runs them", async () => {
    const { made, peaks } = replicas(
      2,
      [
        { name: "left", schedule: "* * * * * *", overlap: "allow", catchUp: "none", group: "exclusive" },
        { name: "right", schedule: "* * * * * *", overlap: "allow", catchUp: "none", group: "exclusive" },
      ],
      1500,
      { JOB_GROUP_LIMITS: "exclusive=1" },
    );
    await Promise.all(made.map((r) => r.start()));
    await waitFor(async () => (await skipped("group exclusive limit reached (1 running)")) >= 3, 15_000);
    await waitFor(async () => (await succeeded()) >= 2, 15_000);
    expect(peaks.all).toBe(1);
  });

  it("refuses a job whose group has no limit, naming both", async () => {
    const { made } = replicas(1, [{ name: "lonely", schedule: "@daily", group: "nowhere" }], 0);
    await expect(made[0]!.start()).rejects.toThrow(
      'job "lonely": group "nowhere" has no limit in JOB_GROUP_LIMITS',
    );
  });

  it("jitter: delays each slot's start by the same deterministic amount on every replica", async () => {
    const spread = job({ name: "spread", schedule: "* * * * * *", jitter: "900ms" });
    const instant = new Date("2026-12-01T10:00:00Z");
    const offsets = Array.from({ length: 20 }, (_, i) => {
      const at = new Date(instant.getTime() + i * 1000);
      return startOf({ job: spread, instant: at, trigger: "schedule" }).getTime() - at.getTime();
    });
    expect(offsets.every((ms) => ms >= 0 && ms <= 900)).toBe(true);
    expect(new Set(offsets).size).toBeGreaterThan(10);
    expect(startOf({ job: spread, instant, trigger: "schedule" })).toEqual(
      startOf({ job: { ...spread }, instant, trigger: "schedule" }),
    );
    const { made } = replicas(1, [], 0);
    const starts: { delay: number; expected: number }[] = [];
    made[0]!.registerJob({
      name: "spread",
      schedule: "* * * * * *",
      jitter: "900ms",
      catchUp: "none",
      run: (ctx) => {
        const expected = startOf({ job: spread, instant: ctx.scheduledFor!, trigger: "schedule" }).getTime();
        starts.push({ delay: Date.now() - expected, expected: expected - ctx.scheduledFor!.getTime() });
      },
    });
    await made[0]!.start();
    await waitFor(() => starts.length >= 3, 10_000);
    for (const start of starts) expect(start.delay).toBeGreaterThanOrEqual(0);
    expect(new Set(starts.map((s) => s.expected)).size).toBeGreaterThan(1);
  });
});
