import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneRuns } from "../../src/jobs/builtin/prune-runs.js";
import type { Daemon } from "../../src/run/daemon.js";
import { testRunner } from "../helpers/runner.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("audit");
const ADMIN = { ...basic("ops", "correct horse battery staple"), "content-type": "application/json" };
const SECRET = "internal-secret-9c2e";
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Daemon;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "audit-1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "correct horse battery staple",
    INTERNAL_SECRET: SECRET,
  });
  runner = made.runner;
  // Overlap allowed: the second trigger must not meet the first run still going (409).
  runner.registerJob({ name: "report", schedule: "0 6 * * *", overlap: "allow", run: () => {} });
  await runner.start();
});
afterAll(async () => {
  await runner.stop();
});

interface Event {
  actor: string;
  action: string;
  job_name: string | null;
  details: Record<string, unknown>;
  at: string;
}
const events = async (query = "") => {
  const res = await made.request(`/v1/admin/audit${query}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: Event[] }).events;
};
const post = (path: string, headers: Record<string, string>, body?: unknown) =>
  made.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("the audit trail", () => {
  it("records triggers, pauses, resumes, registrations and deletions with their actor; refusals are no event", async () => {
    const bySecret = await post("/v1/jobs/report/trigger", { "x-internal-secret": SECRET });
    expect(bySecret.status).toBe(202);
    const { run_id } = (await bySecret.json()) as { run_id: string };
    expect((await post("/api/v1/scheduler/jobs/report/trigger", ADMIN)).status).toBe(202);
    expect((await post("/v1/jobs/report/trigger", { "x-internal-secret": "wrong" })).status).toBe(401);
    expect((await post("/v1/admin/jobs/report/pause", ADMIN, { reason: "audit me" })).status).toBe(200);
    expect((await post("/v1/admin/jobs/report/resume", ADMIN)).status).toBe(200);
    const registered = await post("/api/v1/scheduler/jobs", ADMIN, {
      name: "hook",
      schedule: "@hourly",
      http: { url: "http://127.0.0.1:9/hook", headers: { authorization: "Bearer do-not-keep-me" } },
    });
    expect(registered.status).toBe(201);
    expect(
      (await made.request("/api/v1/scheduler/jobs/hook", { method: "DELETE", headers: ADMIN })).status,
    ).toBe(200);
    // The runner's own events (the registrations of its start) are the next test's.
    const trail = (await events()).reverse().filter((e) => e.actor !== "runner");
    expect(trail.map((e) => [e.actor, e.action, e.job_name])).toEqual([
      ["internal-secret", "trigger", "report"],
      ["ops", "trigger", "report"],
      ["ops", "pause", "report"],
      ["ops", "resume", "report"],
      ["ops", "register", "hook"],
      ["ops", "delete", "hook"],
    ]);
    expect(trail[0]!.details).toEqual({ run_id });
    expect(trail[2]!.details).toEqual({ reason: "audit me", until: null });
    expect(trail[4]!.details).toEqual({ schedule: "@hourly", timezone: "UTC", source: "api" });
    expect(trail[5]!.details).toEqual({ persisted: true });
    // A definition's headers never reach the trail.
    expect(JSON.stringify(trail)).not.toContain("do-not-keep-me");
  });

  it("records the console's Run now with the Basic user and the run id; a refused form is no event", async () => {
    const html = await (await made.request("/", { headers: ADMIN })).text();
    const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
    const form = (body: Record<string, string>) =>
      made.request("/ui/jobs/report/trigger", {
        method: "POST",
        headers: { authorization: ADMIN.authorization, origin: made.base, "sec-fetch-site": "same-origin" },
        body: new URLSearchParams(body),
        redirect: "manual",
      });
    const before = (await events("?job=report&limit=1000")).length;
    expect((await form({})).status).toBe(403);
    expect((await events("?job=report&limit=1000")).length).toBe(before);
    const ok = await form({ token });
    expect(ok.status).toBe(303);
    const runId = /^\/runs\/(\d+)$/.exec(ok.headers.get("location")!)![1];
    const [newest] = await events("?job=report&limit=1");
    expect(newest).toMatchObject({ actor: "ops", action: "trigger", details: { run_id: runId } });
  });

  it("GET /v1/admin/audit filters by job, newest first, bounded; refuses bad limits and anonymous callers", async () => {
    const report = await events("?job=report&limit=3");
    expect(report.map((e) => e.action)).toEqual(["trigger", "resume", "pause"]);
    expect((await events("?job=nothing")).length).toBe(0);
    expect((await made.request("/v1/admin/audit?limit=0", { headers: ADMIN })).status).toBe(400);
    expect((await made.request("/v1/admin/audit?limit=abc", { headers: ADMIN })).status).toBe(400);
    expect((await made.request("/v1/admin/audit")).status).toBe(401);
  });

  it("a start records the jobs it registers and the definitions it changes, against what replicas published", async () => {
    const first = (await events("?job=report")).filter((e) => e.actor === "runner");
    expect(first.map((e) => [e.action, e.details.runner_id, e.details.schedule])).toEqual([
      ["register", "audit-1", "0 6 * * *"],
    ]);
    // The next deploy moves the schedule: the replica that starts with it records the change.
    const next = testRunner(db.sql, { JOB_RUNNER_ID: "audit-2", JOBS_ENABLED: "false" });
    next.runner.registerJob({ name: "report", schedule: "30 6 * * *", overlap: "allow", run: () => {} });
    await next.runner.start();
    await next.runner.stop();
    const changes = (await events("?job=report")).filter((e) => e.action === "change");
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      actor: "runner",
      details: { runner_id: "audit-2", before: { schedule: "0 6 * * *" }, after: { schedule: "30 6 * * *" } },
    });
  });

  it("prune_runs deletes events older than the retention and keeps newer ones", async () => {
    await db.sql`insert into job_audit (at, actor, action, job_name) values (now() - interval '40 days', 'old', 'trigger', 'report')`;
    const before = (await events("?limit=1000")).length;
    const result = await pruneRuns(db.sql, 30, new AbortController().signal);
    expect(result.audit).toBe(1);
    const after = await events("?limit=1000");
    expect(after.length).toBe(before - 1);
    expect(after.map((e) => e.actor)).not.toContain("old");
  });
});
