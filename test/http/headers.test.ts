import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("headers");
const ADMIN = basic("ops", "headers-pass-3");
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { ADMIN_BASIC_USERNAME: "ops", ADMIN_BASIC_PASSWORD: "headers-pass-3" });
  made.runner.registerJob({ name: "job", schedule: "@yearly", run: () => {} });
  await made.runner.start();
});
afterAll(() => made.runner.stop());

describe("answers may not be framed", () => {
  it("the status page says DENY and frame-ancestors 'none'", async () => {
    const page = await made.request("/", { headers: ADMIN });
    expect(page.status).toBe(200);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("content-security-policy")).toMatch(/(^|;\s*)frame-ancestors 'none'(;|$)/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("so does every other answer, errors included", async () => {
    for (const [path, headers] of [
      ["/livez", {}],
      ["/metrics", {}],
      ["/api/v1/scheduler/jobs", ADMIN],
      ["/api/v1/scheduler/jobs", {}],
      ["/no/such/path", {}],
    ] as const) {
      const res = await made.request(path, { headers });
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
    }
  });
});
