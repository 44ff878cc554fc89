import { request } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";

const db = await testDatabase("fuzz");
const PASSWORD = "fuzz-admin-pass-77";
const SECRET = "fuzz-internal-secret-88";
let daemon: RunnerProcess;
let port = 0;

beforeAll(async () => {
  const jobs = jobsModule(
    `export default [{ name: "tick", schedule: "* * * * * *", catchUp: "none", run: () => {} }];`,
  );
  daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: db.schema,
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: PASSWORD,
    INTERNAL_SECRET: SECRET,
    RUNNER_ENV: "production",
  });
  port = Number((await daemon.waitForLog((l) => String(l.msg).startsWith("http sidecar listening"))).port);
  await daemon.waitForLog((l) => l.msg === "runner started");
});
afterAll(async () => {
  daemon.child.kill("SIGTERM");
  expect((await daemon.exited).code).toBe(0);
});

/** One raw request; resolves with the status, or 0 when the server closed the connection. */
function send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: "127.0.0.1", port, method, path, headers, timeout: 5000 }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
    } catch {
      // Node's client refuses some fuzzed paths or headers before sending: nothing reached the server.
      return resolve(-1);
    }
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    if (body) req.write(body);
    req.end();
  });
}

const paths = fc.oneof(
  fc.constantFrom(
    "/",
    "/livez",
    "/readyz",
    "/metrics",
    "/v1/admin/jobs/status",
    "/v1/admin/jobs/tick/runs?limit=5",
    "/v1/jobs/tick/trigger",
    "/api/v1/scheduler/jobs",
    "/api/v1/scheduler/jobs/tick",
    "/api/v1/scheduler/jobs/tick/trigger",
    "/api/v1/scheduler/jobs/tick/last-result",
    "/ui/jobs/tick/trigger",
    "/ui/jobs/tick/pause",
    "/ui/jobs/tick/resume",
    "/ui/jobs/tick/backfill",
    "/jobs/tick",
    "/jobs/tick?status=failed&before=1",
    "/runs/1",
    "/v1/admin/jobs/tick/slots?from=2026-01-01T00:00Z",
    "/v1/admin/jobs/tick/backfill",
    "/v1/admin/jobs/tick/pause",
    "/v1/admin/runs/1/logs",
    "/v1/admin/audit",
  ),
  fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)),
  fc.string({ maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`),
  fc.constantFrom(
    "/v1/jobs/%E0%A4%A/trigger",
    "/v1/admin/jobs/%ZZ/runs",
    "/api/v1/scheduler/jobs/..%2F..%2Fetc",
    `/v1/jobs/${"a".repeat(5000)}/trigger`,
  ),
);
const methods = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
);
const credentials = fc.oneof(
  fc.constant({}),
  fc.record({
    authorization: fc
      .string({ maxLength: 80 })
      .map((s) => `Basic ${Buffer.from(`ops:${s}`).toString("base64")}`),
  }),
  fc.record({ authorization: fc.string({ maxLength: 80 }) }),
  fc.record({ "x-internal-secret": fc.string({ maxLength: 80 }) }),
);
const bodies = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.json().map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.alloc(70 * 1024, 120)),
);

describe("fuzzed HTTP against a real daemon", () => {
  it("answers every request with a 4xx, 503 or the endpoint's success, never crashes, and keeps firing jobs", async () => {
    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(methods, paths, credentials, bodies, async (method, path, headers, body) => {
        const safeHeaders = Object.fromEntries(
          Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)),
        );
        const status = await send(
          method,
          path,
          { ...safeHeaders, ...(body ? { "content-type": "application/json" } : {}) },
          body,
        );
        count++;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        // 200 only on unauthenticated reads; a wrong password never gets through.
        expect([200, 400, 401, 404, 405, 408, 413, 503, 0, -1]).toContain(status);
        if (status === 200) expect(["/livez", "/readyz", "/metrics"]).toContain(path.split("?")[0]);
      }),
      { numRuns: 400 },
    );
    // Slow clients: sockets that send half a request and stall.
    const slow = Array.from({ length: 20 }, () => {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write("POST /v1/jobs/tick/trigger HTTP/1.1\r\nHost: x\r\ncontent-length: 100\r\n\r\n{");
      return socket;
    });
    expect(await send("GET", "/livez", {})).toBe(200);
    const before = Date.now();
    const tick = await daemon.waitForLog(
      (l) => l.msg === "run started" && l.job_name === "tick" && Date.parse(String(l.time)) > before,
    );
    expect(Date.parse(String(tick.time)) - Date.parse(String(tick.scheduled_for))).toBeLessThan(500);
    for (const socket of slow) socket.destroy();
    console.log(
      `fuzz: ${count} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, 20 stalled sockets`,
    );
    expect(daemon.child.exitCode).toBeNull();
    expect(daemon.stdout + daemon.stderr).not.toContain(PASSWORD);
    expect(daemon.stdout + daemon.stderr).not.toContain(SECRET);
  }, 120_000);
});
