import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon as Runner } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("admin");
const ADMIN = basic("ops", "correct horse battery staple");
const SECRET = "internal-secret-7f3a";
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Runner;
let release: () => void = () => {};
let finishHalfway: () => void = () => {};

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "admin-1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "correct horse battery staple",
    INTERNAL_SECRET: SECRET,
  });
  runner = made.runner;
  runner.registerJob({ name: "report", schedule: "0 6 * * *", run: (ctx) => ({ params: ctx.params }) });
  runner.registerJob({
    name: "failing",
    schedule: "0 7 * * *",
    run: () => Promise.reject(new Error("upstream 503")),
  });
  runner.registerJob({ name: "idle", schedule: "@yearly", run: () => {} });
  runner.registerJob({
    name: "blocking",
    schedule: "@yearly",
    run: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  });
  runner.registerJob({
    name: "halfway",
    schedule: "@yearly",
    run: (ctx) => {
      for (let done = 1; done <= 3; done++) ctx.progress(done, 10);
      return new Promise<void>((resolve) => {
        finishHalfway = resolve;
      });
    },
  });
  await runner.start();
  await (await runner.triggerJob("report")).done;
  await (await runner.triggerJob("failing")).done;
});
afterAll(async () => {
  release();
  finishHalfway();
  await runner.stop();
});

const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
  made.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("admin API", () => {
  it("shows a running run's latest progress in the admin status and on the console", async () => {
    const { done } = await runner.triggerJob("halfway");
    const status = async () => {
      const { jobs } = (await (await made.request("/v1/admin/jobs/status", { headers: ADMIN })).json()) as {
        jobs: { name: string; progress: unknown; running: number }[];
      };
      return jobs.find((j) => j.name === "halfway")!;
    };
    // The first report is written at once, the latest (3 of 10) within a second.
    await waitFor(async () => JSON.stringify((await status()).progress) === '{"done":3,"total":10}', 5000);
    expect(await (await made.request("/", { headers: ADMIN })).text()).toContain(
      '<span class="tag t-running">running</span> 1 (3/10)',
    );
    finishHalfway();
    await done;
    expect(await status()).toMatchObject({ running: 0, progress: null });
  });

  it("GET /v1/admin/jobs/status lists every job with the contract's fields, its state and its view", async () => {
    const res = await made.request("/v1/admin/jobs/status", { headers: ADMIN });
    expect(res.status).toBe(200);
    const { jobs } = (await res.json()) as { jobs: Record<string, unknown>[] };
    const failing = jobs.find((j) => j.name === "failing")!;
    expect(Object.keys(failing).sort()).toEqual(
      [
        "consecutive_failures",
        "last_error",
        "last_error_at",
        "last_heartbeat",
        "last_success_at",
        "name",
        "next_run_at",
        "paused",
        "paused_by",
        "paused_reason",
        "paused_until",
        "running",
        "progress",
        "runner_id",
        "expected_last_run_at",
        "overdue_seconds",
        "pending_retry",
        // The job's view, as GET /api/v1/scheduler/jobs and `runner jobs --json` show it.
        "schedule",
        "timezone",
        "timeout_ms",
        "retries",
        "overlap",
        "catch_up",
        "description",
        "source",
        "enabled",
      ].sort(),
    );
    const listed = (await (await made.request("/api/v1/scheduler/jobs", { headers: ADMIN })).json()) as {
      jobs: Record<string, unknown>[];
    };
    const view = listed.jobs.find((j) => j.name === "failing")!;
    for (const [field, value] of Object.entries(view))
      if (field !== "running") expect(failing[field]).toEqual(value);
    expect(failing).toMatchObject({
      consecutive_failures: 1,
      last_error: "upstream 503",
      runner_id: "admin-1",
      paused: false,
      running: 0,
      last_success_at: null,
      // First seen just now: no slot of it has passed its grace yet.
      expected_last_run_at: expect.stringMatching(/T07:00:00.000Z$/),
      overdue_seconds: 0,
    });
    expect(failing.next_run_at).toMatch(/T07:00:00.000Z$/);
    expect(jobs.find((j) => j.name === "report")).toMatchObject({
      consecutive_failures: 0,
      last_error: null,
      last_success_at: expect.any(String),
    });
    expect(jobs.find((j) => j.name === "jobs-runner")).toMatchObject({
      runner_id: "admin-1",
      next_run_at: null,
    });
  });

  it("GET /v1/admin/jobs/:name/runs?limit=N returns the newest runs first", async () => {
    await (await runner.triggerJob("report", { n: "2" })).done;
    const res = await made.request("/v1/admin/jobs/report/runs?limit=1", { headers: ADMIN });
    const body = (await res.json()) as { runs: Record<string, unknown>[] };
    expect(body.runs).toHaveLength(1);
    expect(body.runs[0]).toMatchObject({
      job_name: "report",
      status: "succeeded",
      trigger: "manual",
      params: { n: "2" },
      result: { params: { n: "2" } },
    });
    expect((await made.request("/v1/admin/jobs/report/runs?limit=0", { headers: ADMIN })).status).toBe(400);
    expect((await made.request("/v1/admin/jobs/nope/runs", { headers: ADMIN })).status).toBe(404);
  });

  it("refuses missing or wrong credentials with 401 and a Basic challenge", async () => {
    for (const headers of [
      {},
      basic("ops", "wrong"),
      basic("root", "correct horse battery staple"),
      { authorization: "Bearer x" },
      { authorization: "Basic !!!" },
    ]) {
      const res = await made.request("/v1/admin/jobs/status", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="runner"/);
    }
    expect((await made.request("/api/v1/scheduler/jobs")).status).toBe(401);
  });
});

describe("POST /v1/jobs/:name/trigger", () => {
  it("accepts the internal secret or Basic, and refuses anything else", async () => {
    const ok = await post(
      "/v1/jobs/report/trigger",
      { "x-internal-secret": SECRET },
      JSON.stringify({ params: { day: "mon" } }),
    );
    expect(ok.status).toBe(202);
    const { run_id } = (await ok.json()) as { run_id: string };
    const [row] = await db.sql`select trigger, params from job_runs where id = ${run_id}`;
    expect(row).toEqual({ trigger: "http", params: { day: "mon" } });
    await waitFor(
      async () => (await db.sql`select status from job_runs where id = ${run_id}`)[0]!.status !== "running",
    );
    expect((await post("/v1/jobs/report/trigger", ADMIN)).status).toBe(202);
    expect((await post("/v1/jobs/report/trigger", { "x-internal-secret": "wrong" })).status).toBe(401);
    expect((await post("/v1/jobs/report/trigger")).status).toBe(401);
  });

  it("answers 404 for an unknown job, 400 for a bad body, 409 while a skip-overlap job runs", async () => {
    expect((await post("/v1/jobs/nope/trigger", { "x-internal-secret": SECRET })).status).toBe(404);
    expect((await post("/v1/jobs/report/trigger", { "x-internal-secret": SECRET }, "{not json")).status).toBe(
      400,
    );
    expect(
      (
        await post(
          "/v1/jobs/report/trigger",
          { "x-internal-secret": SECRET },
          JSON.stringify({ params: { n: 1 } }),
        )
      ).status,
    ).toBe(400);
    expect((await post("/v1/jobs/blocking/trigger", { "x-internal-secret": SECRET })).status).toBe(202);
    const conflict = await post("/v1/jobs/blocking/trigger", { "x-internal-secret": SECRET });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ error: 'job "blocking" is running and its overlap is skip' });
    release();
  });

  it("returns the first run id for a repeated Idempotency-Key", async () => {
    await waitFor(async () => !(await runner.store!.isRunning("report")));
    const headers = { "x-internal-secret": SECRET, "idempotency-key": "cloud-scheduler-2026-11-23T06:00" };
    const first = (await (await post("/v1/jobs/report/trigger", headers)).json()) as { run_id: string };
    const again = await post("/v1/jobs/report/trigger", headers);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { run_id: string }).run_id).toBe(first.run_id);
    const runs =
      await db.sql`select count(*)::int as n from job_runs where job_name = 'report' and id >= ${first.run_id}`;
    expect(runs[0]!.n).toBe(1);
  });
});

describe("POST /v1/jobs/:name/trigger under contention", () => {
  const idle = () => waitFor(async () => !(await runner.store!.isRunning("blocking")));

  it("starts one run of two concurrent requests for a skip-overlap job and refuses the other", async () => {
    await idle();
    const answers = await Promise.all([
      post("/v1/jobs/blocking/trigger", { "x-internal-secret": SECRET }),
      post("/v1/jobs/blocking/trigger", { "x-internal-secret": SECRET }),
    ]);
    expect(answers.map((res) => res.status).sort()).toEqual([202, 409]);
    release();
  });

  it("does not spend an Idempotency-Key on a request that was refused", async () => {
    await idle();
    expect((await post("/v1/jobs/blocking/trigger", { "x-internal-secret": SECRET })).status).toBe(202);
    const headers = { "x-internal-secret": SECRET, "idempotency-key": "retry-after-409" };
    expect((await post("/v1/jobs/blocking/trigger", headers)).status).toBe(409);
    release();
    await idle();
    const retry = await post("/v1/jobs/blocking/trigger", headers);
    expect(retry.status).toBe(202);
    const { run_id } = (await retry.json()) as { run_id: string | null };
    expect(run_id).toMatch(/^\d+$/);
    const again = (await (await post("/v1/jobs/blocking/trigger", headers)).json()) as { run_id: string };
    expect(again.run_id).toBe(run_id);
    release();
  });
});

describe("scheduler API", () => {
  it("lists jobs, triggers one and returns its last result", async () => {
    const list = (await (await made.request("/api/v1/scheduler/jobs", { headers: ADMIN })).json()) as {
      jobs: { name: string }[];
    };
    expect(list.jobs.map((j) => j.name).sort()).toEqual(["blocking", "failing", "halfway", "idle", "report"]);
    await waitFor(async () => !(await runner.store!.isRunning("report")));
    const trigger = await post("/api/v1/scheduler/jobs/report/trigger", ADMIN);
    expect(trigger.status).toBe(202);
    const { run_id } = (await trigger.json()) as { run_id: string };
    const result = await (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await made.request("/api/v1/scheduler/jobs/report/last-result", { headers: ADMIN });
        const body = (await res.json()) as { id: string; status: string };
        if (body.id === run_id) return body;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error("last result never showed the triggered run");
    })();
    expect(result).toMatchObject({ id: run_id, status: "succeeded", job_name: "report" });
    expect((await made.request("/api/v1/scheduler/jobs/idle/last-result", { headers: ADMIN })).status).toBe(
      404,
    );
    expect((await made.request("/api/v1/scheduler/jobs/nope/last-result", { headers: ADMIN })).status).toBe(
      404,
    );
  });
});
