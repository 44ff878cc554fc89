import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("pause");
const ADMIN = basic("ops", "correct horse battery staple");
const webhook: Record<string, unknown>[] = [];
let receiver: Server;
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Daemon;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      webhook.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "pause-1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "correct horse battery staple",
    JOB_LOOP_INTERVAL_SECONDS: "1",
    ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    ALERT_AFTER_FAILURES: "100",
  });
  runner = made.runner;
  runner.registerJob({ name: "report", schedule: "0 6 * * *", run: () => {} });
  runner.registerJob({ name: "freeze", schedule: "0 6 * * *", run: () => {} });
  runner.registerJob({
    name: "flaky",
    schedule: "@yearly",
    pauseAfterFailures: 2,
    run: () => Promise.reject(new Error("bank API 502")),
  });
  await runner.start();
});
afterAll(async () => {
  await runner.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const post = (path: string, body?: unknown, headers: Record<string, string> = ADMIN) =>
  made.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const statusOf = async (name: string) => {
  const { jobs } = (await (await made.request("/v1/admin/jobs/status", { headers: ADMIN })).json()) as {
    jobs: Record<string, unknown>[];
  };
  return jobs.find((j) => j.name === name)!;
};
const audit = (job: string) =>
  db.sql<{ actor: string; action: string; details: Record<string, unknown> }[]>`
    select actor, action, details from job_audit where job_name = ${job} and action <> 'register' order by id`;
const gauge = async (job: string) =>
  new RegExp(`^job_paused\\{job_name="${job}"\\} (\\d)$`, "m").exec(
    await (await made.request("/metrics")).text(),
  )?.[1];

describe("pause with a reason, an owner and an expiry", () => {
  it("POST /v1/admin/jobs/:name/pause keeps reason, owner and expiry; status and job_paused show them", async () => {
    const res = await post("/v1/admin/jobs/report/pause", {
      reason: "deploy freeze",
      until: "2099-01-01T00:00Z",
    });
    // Over a year ahead is refused: a forgotten pause.
    expect(res.status).toBe(400);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const ok = await post("/v1/admin/jobs/report/pause", { reason: "deploy freeze", until });
    expect(ok.status).toBe(200);
    expect(await statusOf("report")).toMatchObject({
      paused: true,
      paused_by: "ops",
      paused_reason: "deploy freeze",
      paused_until: until,
    });
    await waitFor(async () => (await gauge("report")) === "1", 5000, "job_paused 1");
    expect(await gauge("freeze")).toBe("0");
    const resumed = await post("/v1/admin/jobs/report/resume");
    expect(await resumed.json()).toEqual({ job_name: "report", paused: false, was_paused: true });
    expect(await statusOf("report")).toMatchObject({
      paused: false,
      paused_reason: null,
      paused_until: null,
    });
    await waitFor(async () => (await gauge("report")) === "0", 5000, "job_paused 0");
    expect((await audit("report")).map((e) => [e.actor, e.action, e.details.reason ?? null])).toEqual([
      ["ops", "pause", "deploy freeze"],
      ["ops", "resume", null],
    ]);
  });

  it("resumes by itself at its expiry (the loop), recorded as the runner's resume", async () => {
    expect((await post("/v1/admin/jobs/freeze/pause", { reason: "short", for: "1s" })).status).toBe(200);
    expect((await statusOf("freeze")).paused).toBe(true);
    await waitFor(async () => (await statusOf("freeze")).paused === false, 10_000, "the pause to expire");
    const events = await audit("freeze");
    expect(events.at(-1)).toMatchObject({
      actor: "runner",
      action: "resume",
      details: { expired: true, reason: "short" },
    });
  });

  it("refuses bad input with one line naming the field, unknown jobs, cross-site and anonymous callers", async () => {
    const answer = async (res: Response) => [res.status, ((await res.json()) as { error?: string }).error];
    expect(await answer(await post("/v1/admin/jobs/report/pause", { reason: "a\nb" }))).toEqual([
      400,
      "reason: one line, no control characters",
    ]);
    expect(await answer(await post("/v1/admin/jobs/report/pause", { until: "2020-01-01T00:00Z" }))).toEqual([
      400,
      "until: must be in the future",
    ]);
    expect((await post("/v1/admin/jobs/report/pause", { until: "tomorrow" })).status).toBe(400);
    expect(
      (await post("/v1/admin/jobs/report/pause", { for: "2h", until: "2099-01-01T00:00Z" })).status,
    ).toBe(400);
    expect((await post("/v1/admin/jobs/report/pause", { owner: "someone else" })).status).toBe(400);
    expect((await post("/v1/admin/jobs/nope/pause", {})).status).toBe(404);
    expect((await post("/v1/admin/jobs/report/pause", {}, {})).status).toBe(401);
    expect(
      (await post("/v1/admin/jobs/report/pause", {}, { ...ADMIN, origin: "https://evil.example" })).status,
    ).toBe(403);
    expect((await statusOf("report")).paused).toBe(false);
  });

  it("pauseAfterFailures pauses the job with the last error as its reason, and the webhook says so", async () => {
    await (await runner.triggerJob("flaky")).done;
    expect((await statusOf("flaky")).paused).toBe(false);
    await (await runner.triggerJob("flaky")).done;
    await waitFor(async () => (await statusOf("flaky")).paused === true, 5000, "the auto-pause");
    expect(await statusOf("flaky")).toMatchObject({
      paused_by: "runner",
      paused_reason: "2 consecutive failures, the last: bank API 502",
      paused_until: null,
    });
    const alert = await waitFor(() => webhook.find((b) => b.status === "paused"), 5000, "the paused alert");
    expect(alert).toMatchObject({ job_name: "flaky", consecutive_failures: 2 });
    expect(alert.text).toContain("flaky paused itself: 2 consecutive failures, the last: bank API 502");
    expect((await audit("flaky")).map((e) => [e.actor, e.action])).toEqual([["runner", "pause"]]);
    expect(await gauge("flaky")).toBe("1");
  });
});
