import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { isLoopback } from "../../src/http/auth.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("authdef");

/** A request with a Host header of our choosing (fetch sets its own). */
function ask(port: number, path: string, method = "GET", host = `127.0.0.1:${port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: "127.0.0.1", path, method, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

const PROTECTED = [
  ["GET", "/v1/admin/jobs/status"],
  ["GET", "/api/v1/scheduler/jobs"],
  ["POST", "/api/v1/scheduler/jobs/job/trigger"],
  ["POST", "/v1/jobs/job/trigger"],
  ["DELETE", "/api/v1/scheduler/jobs/job"],
  ["GET", "/"],
] as const;
const OPEN = ["/livez", "/readyz", "/metrics"];

async function started(env: Record<string, string>) {
  const made = await sidecarRunner(db.sql, env);
  made.runner.registerJob({ name: "job", schedule: "@yearly", run: () => {} });
  await made.runner.start();
  return made;
}

async function answers(port: number, host?: string) {
  const out: number[] = [];
  for (const [method, path] of PROTECTED) out.push(await ask(port, path, method, host));
  return out;
}

describe("safe by default", () => {
  it("listens on 127.0.0.1 unless told otherwise, with ADMIN_AUTH=auto", () => {
    expect(loadConfig({})).toMatchObject({ httpHost: "127.0.0.1", adminAuth: "auto" });
    expect(
      ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"].every(isLoopback),
    ).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "127.example.com", "localhost.evil.example"].some(isLoopback)).toBe(
      false,
    );
  });

  it("on every interface without credentials, protected routes answer 503; the probes stay open", async () => {
    const made = await started({ HTTP_HOST: "0.0.0.0" });
    try {
      expect(await answers(made.sidecar.port)).toEqual([503, 503, 503, 503, 503, 503]);
      const page = await ask(made.sidecar.port, "/ui/jobs/job/trigger", "POST");
      expect(page).toBe(503);
      for (const path of OPEN) expect(await ask(made.sidecar.port, path), path).toBe(200);
      expect(made.lines.join("")).toContain("admin endpoints answer 503 until ADMIN_BASIC_USERNAME");
      expect(await db.sql`select id from job_runs`).toHaveLength(0);
    } finally {
      await made.runner.stop();
    }
  });

  it("on loopback without credentials, they answer to this machine's names only (DNS rebinding)", async () => {
    const made = await started({ HTTP_HOST: "127.0.0.1" });
    try {
      expect(await ask(made.sidecar.port, "/v1/admin/jobs/status")).toBe(200);
      expect(await ask(made.sidecar.port, "/", "GET", `localhost:${made.sidecar.port}`)).toBe(200);
      expect(await answers(made.sidecar.port, `rebound.evil.example:${made.sidecar.port}`)).toEqual([
        403, 403, 403, 403, 403, 403,
      ]);
      expect(made.lines.join("")).toContain("admin endpoints are open to this machine only");
    } finally {
      await made.runner.stop();
    }
  });

  it("in production, loopback is no excuse: 503", async () => {
    const made = await started({ HTTP_HOST: "127.0.0.1", RUNNER_ENV: "production" });
    try {
      expect(await answers(made.sidecar.port)).toEqual([503, 503, 503, 503, 503, 503]);
    } finally {
      await made.runner.stop();
    }
  });

  it("ADMIN_AUTH=none opens them on any address, in production too, and says so", async () => {
    const made = await started({ HTTP_HOST: "0.0.0.0", RUNNER_ENV: "production", ADMIN_AUTH: "none" });
    try {
      expect(await ask(made.sidecar.port, "/v1/admin/jobs/status", "GET", "runner.internal")).toBe(200);
      expect(await ask(made.sidecar.port, "/v1/jobs/job/trigger", "POST", "runner.internal")).toBe(202);
      expect(made.lines.join("")).toContain(
        "admin endpoints are open to anyone who reaches 0.0.0.0 (ADMIN_AUTH=none)",
      );
    } finally {
      await made.runner.stop();
    }
  });

  it("refuses any other ADMIN_AUTH", () => {
    expect(() => loadConfig({ ADMIN_AUTH: "off" })).toThrow(/ADMIN_AUTH: .*auto \| none|ADMIN_AUTH/);
  });
});
