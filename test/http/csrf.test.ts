import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageTokens } from "../../src/http/csrf.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("csrf");
const PASSWORD = "csrf-pass-7f3a";
const ADMIN = basic("ops", PASSWORD);
const JSON_TYPE = { "content-type": "application/json" };
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: PASSWORD,
    INTERNAL_SECRET: "csrf-secret-19",
  });
  made.runner.registerJob({ name: "report", schedule: "@yearly", run: () => {} });
  await made.runner.start();
});
afterAll(() => made.runner.stop());

const definition = (name: string) =>
  JSON.stringify({ name, schedule: "* * * * * *", http: { url: "http://127.0.0.1:1/internal" } });
const definitions = async () => (await db.sql`select name from job_definitions`).map((r) => r.name);
const httpRuns = async () =>
  Number((await db.sql`select count(*) from job_runs where trigger = 'http'`)[0]!.count);

describe("the JSON routes refuse what a foreign page can send", () => {
  it("a text/plain or form body is 415 and registers nothing, even with valid credentials", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await made.request("/api/v1/scheduler/jobs", {
        method: "POST",
        headers: { ...ADMIN, "content-type": type },
        body: definition("planted"),
      });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { error: string }).error).toBe("Content-Type: expected application/json");
    }
    // A body without any Content-Type is not JSON either.
    const untyped = await made.request("/api/v1/scheduler/jobs", {
      method: "POST",
      headers: ADMIN,
      body: new Blob([definition("planted")]),
    });
    expect(untyped.status).toBe(415);
    for (const path of ["/v1/jobs/report/trigger", "/api/v1/scheduler/jobs/report/trigger"]) {
      const res = await made.request(path, {
        method: "POST",
        headers: { ...ADMIN, "content-type": "text/plain" },
        body: '{"params":{}}',
      });
      expect(res.status, path).toBe(415);
    }
    expect(await definitions()).toEqual([]);
    expect(await httpRuns()).toBe(0);
  });

  it("a foreign or null Origin, or Sec-Fetch-Site cross-site or same-site, is 403 on every state change", async () => {
    const foreign: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: `http://127.0.0.1:${made.sidecar.port + 1}` },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of foreign) {
      for (const [method, path, body] of [
        ["POST", "/api/v1/scheduler/jobs", definition("planted")],
        ["POST", "/api/v1/scheduler/jobs/report/trigger", undefined],
        ["POST", "/v1/jobs/report/trigger", undefined],
        ["DELETE", "/api/v1/scheduler/jobs/report", undefined],
      ] as const) {
        const res = await made.request(path, {
          method,
          headers: { ...ADMIN, ...JSON_TYPE, ...headers },
          body,
        });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403);
      }
    }
    expect(await definitions()).toEqual([]);
    expect(await httpRuns()).toBe(0);
    expect(made.runner.registry.has("report")).toBe(true);
  });

  it("same-origin browsers and clients that are not browsers still get through", async () => {
    const sameOrigin = { origin: made.base, "sec-fetch-site": "same-origin" };
    const created = await made.request("/api/v1/scheduler/jobs", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json; charset=utf-8", ...sameOrigin },
      body: definition("wanted"),
    });
    expect(created.status).toBe(201);
    // curl -X POST: no body, no Content-Type.
    const bare = await made.request("/v1/jobs/report/trigger", {
      method: "POST",
      headers: { "x-internal-secret": "csrf-secret-19" },
    });
    expect(bare.status).toBe(202);
    expect(await definitions()).toEqual(["wanted"]);
  });
});

describe("the console's Run now", () => {
  const page = async () => {
    const res = await made.request("/", { headers: ADMIN });
    expect(res.status).toBe(200);
    const html = await res.text();
    return { html, token: /name="token" value="([^"]+)"/.exec(html)?.[1] };
  };
  const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    made.request("/ui/jobs/report/trigger", {
      method: "POST",
      headers: { ...ADMIN, ...headers },
      body: new URLSearchParams(form),
      redirect: "manual",
    });

  it("needs the page's token and this origin; Origin: null is refused", async () => {
    const before = await httpRuns();
    const { token } = await page();
    expect(token).toMatch(/^\d+\.[\w-]+$/);
    expect((await post({})).status).toBe(403);
    expect((await post({ token: `${token}x` })).status).toBe(403);
    const otherKey = pageTokens({ adminPassword: "another-password" }).issue();
    expect((await post({ token: otherKey })).status).toBe(403);
    expect((await post({ token: token! }, { origin: "null" })).status).toBe(403);
    expect((await post({ token: token! }, { origin: "https://evil.example" })).status).toBe(403);
    expect((await post({ token: token! }, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect(await httpRuns()).toBe(before);

    const ok = await post({ token: token! }, { origin: made.base, "sec-fetch-site": "same-origin" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toMatch(/^\/runs\/\d+$/);
    expect(await httpRuns()).toBe(before + 1);
  });

  it("accepts a token of a replica with the same password, and refuses one older than a day", () => {
    const now = Date.now();
    const here = pageTokens({ adminPassword: PASSWORD }, () => now);
    const replica = pageTokens({ adminPassword: PASSWORD }, () => now - 60_000);
    expect(() => here.check(replica.issue())).not.toThrow();
    const yesterday = pageTokens({ adminPassword: PASSWORD }, () => now - 24 * 3600_000 - 2000);
    expect(() => here.check(yesterday.issue())).toThrow(/expired/);
  });

  it("says which run started from the run's row, never from text in the address", async () => {
    const { token } = await page();
    const location = (await post({ token: token! }, { origin: made.base })).headers.get("location")!;
    const runId = /^\/runs\/(\d+)$/.exec(location)![1];
    const shown = await (await made.request(location, { headers: ADMIN })).text();
    expect(shown).toContain(`<h1>Run ${runId} of <a href="/jobs/report">report</a></h1>`);
    const planted = await made.request(`${location}?triggered=Payroll%20wired%20to%20IBAN%20X`, {
      headers: ADMIN,
    });
    expect(planted.status).toBe(400);
    expect(await planted.text()).not.toContain("Payroll");
    const spoofed = await made.request("/?run=99999999&triggered=Hacked", { headers: ADMIN });
    expect(spoofed.status).toBe(400);
    expect(await spoofed.text()).not.toContain("Hacked");
  });
});
