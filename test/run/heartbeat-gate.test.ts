import type { Sql } from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { createPool } from "../../src/store/pool.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

// Item 12: the runbook gates API containers (JOBS_ENABLED=false, JOB_HEARTBEAT_REQUIRED=true) on
// the shared `jobs-runner` heartbeat. They must not write that row themselves, and their /readyz
// must go 503 once the replica that runs jobs is gone, naming it.
const db = await testDatabase("gate");
const pools: Sql[] = [];
const daemons: Daemon[] = [];
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all(pools.map((pool) => pool.end()));
});

async function replica(env: Record<string, string>) {
  const pool = createPool(db.url, db.schema, 3);
  pools.push(pool);
  const made = await sidecarRunner(pool, {
    JOB_LOOP_INTERVAL_SECONDS: "1",
    JOB_HEARTBEAT_TTL_SECONDS: "2",
    ...env,
  });
  daemons.push(made.runner);
  return made;
}

interface Ready {
  checks: { name: string; status: string; [key: string]: unknown }[];
}
const jobsCheck = async (res: Response) =>
  ((await res.json()) as Ready).checks.find((c) => c.name === "jobs")!;
const runnerRow = async () =>
  (await db.sql<{ runner_id: string }[]>`select runner_id from job_heartbeats where name = 'jobs-runner'`)[0];

describe("the runbook's gate on the jobs-runner heartbeat", () => {
  it("is written only by replicas that run jobs, and an API replica's /readyz fails when it goes stale", async () => {
    const api = await replica({
      JOB_RUNNER_ID: "api-1",
      JOBS_ENABLED: "false",
      JOB_HEARTBEAT_REQUIRED: "true",
    });
    await api.runner.start();
    // No replica runs jobs yet: nothing to vouch for them.
    const none = await api.request("/readyz");
    expect(none.status).toBe(503);
    expect(await jobsCheck(none)).toMatchObject({ status: "fail", enforced: true, runner_id: null });
    await api.runner.loop!.tick();
    expect(await runnerRow()).toBeUndefined();

    const worker = await replica({ JOB_RUNNER_ID: "worker-1" });
    await worker.runner.start();
    const ok = await waitFor(async () => {
      const res = await api.request("/readyz");
      return res.status === 200 ? jobsCheck(res) : undefined;
    });
    expect(ok).toMatchObject({
      status: "ok",
      runner_id: "worker-1",
      source: "jobs-runner",
      threshold_seconds: 2,
    });
    // The API replica's own ticks leave the row to the worker (its liveness is in job_runners).
    await api.runner.loop!.tick();
    expect(await runnerRow()).toEqual({ runner_id: "worker-1" });
    const [api1] = await db.sql`select runner_id from job_runners where runner_id = 'api-1'`;
    expect(api1).toBeDefined();

    // The worker dies (stops heartbeating): the API replica goes unready within the TTL, naming it.
    await worker.runner.stop();
    const stale = await waitFor(
      async () => {
        const res = await api.request("/readyz");
        return res.status === 503 ? jobsCheck(res) : undefined;
      },
      10_000,
      "the API replica's /readyz to fail",
    );
    expect(stale).toMatchObject({ status: "fail", runner_id: "worker-1", enforced: true });
    expect(stale.age_seconds).toBeGreaterThan(2);
    expect(stale.error).toMatch(/^jobs-runner heartbeat from worker-1 is [\d.]+ s old \(threshold 2 s\)$/);
    // And the runbook's psql query tells the same story: the row is the dead worker's.
    expect(await runnerRow()).toEqual({ runner_id: "worker-1" });
  });
});
