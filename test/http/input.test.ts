import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("input");
const PASSWORD = "input-pass-8e2b";
const ADMIN = { ...basic("ops", PASSWORD), "content-type": "application/json" };
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { ADMIN_BASIC_USERNAME: "ops", ADMIN_BASIC_PASSWORD: PASSWORD });
  made.runner.registerJob({ name: "echo", schedule: "@yearly", run: () => {} });
  await made.runner.start();
});
afterAll(() => made.runner.stop());

const register = (body: string) =>
  made.request("/api/v1/scheduler/jobs", { method: "POST", headers: ADMIN, body });
const error = async (res: Response) => ((await res.json()) as { error: string }).error;
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("Basic credentials are decoded strictly", () => {
  const token = Buffer.from(`ops:${PASSWORD}`).toString("base64");
  const status = async (authorization: string) =>
    (await made.request("/v1/admin/jobs/status", { headers: { authorization } })).status;

  it("accepts the canonical header, and nothing with garbage around or inside the token", async () => {
    expect(await status(`Basic ${token}`)).toBe(200);
    expect(await status(`basic ${token}`)).toBe(200);
    for (const forged of [
      `Basic ${token}garbage`,
      `Basic ${token}!!`,
      `Basic ${token}=`,
      `Basic ${token.slice(0, 4)} ${token.slice(4)}`,
      `Basic ${token}.AAAA`,
      `Basic ${Buffer.from([0x6f, 0x70, 0x73, 0x3a, 0xff]).toString("base64")}`,
      `Basic${token}`,
    ])
      expect(await status(forged), forged).toBe(401);
  });
});

describe("an admin user name with ':'", () => {
  it("is a configuration error (exit 2), since Basic Auth could never match it", () => {
    const load = () => loadConfig({ ADMIN_BASIC_USERNAME: "ops:team", ADMIN_BASIC_PASSWORD: "pw" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^ADMIN_BASIC_USERNAME: must not contain ':'/);
    expect(loadConfig({ ADMIN_BASIC_USERNAME: "ops-team" }).adminUsername).toBe("ops-team");
  });
});

describe("JSON bodies", () => {
  it("nested 3,000 deep answer 400, not 500, on every JSON route", async () => {
    const deep = `{"name":"deep","schedule":"@daily","http":{"url":"http://127.0.0.1:1/x","method":"POST","body":${nested(3000)}}}`;
    const res = await register(deep);
    expect(res.status).toBe(400);
    expect(await error(res)).toBe("JSON body nested deeper than 32 levels");
    const trigger = await made.request("/api/v1/scheduler/jobs/echo/trigger", {
      method: "POST",
      headers: ADMIN,
      body: `{"params":${nested(3000)}}`,
    });
    expect(trigger.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const quoted = await register(
      JSON.stringify({
        name: "quoted",
        schedule: "@daily",
        http: { url: "http://127.0.0.1:1/x", method: "POST", body: { text: nested(3000) } },
      }),
    );
    expect(quoted.status).toBe(201);
    expect(made.lines.join("")).not.toContain("http handler failed");
  });

  it("32 levels are still accepted", async () => {
    const body = `{"name":"deep_ok","schedule":"@daily","http":{"url":"http://127.0.0.1:1/x","method":"POST","body":${nested(29)}}}`;
    expect((await register(body)).status).toBe(201);
  });
});

describe("registration refuses headers that would fail every run", () => {
  it("CR or LF in a value, or a name that is not a token: 400 naming the header, nothing stored", async () => {
    for (const [name, value] of [
      ["x-note", "a\r\nx-injected: 1"],
      ["x-note", "line\nbreak"],
      ["bad name", "v"],
    ]) {
      const res = await register(
        JSON.stringify({
          name: "smuggler",
          schedule: "@daily",
          http: { url: "http://127.0.0.1:1/x", headers: { [name!]: value } },
        }),
      );
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(await error(res)).toMatch(/^http\.headers\./);
    }
    expect(await db.sql`select name from job_definitions where name = 'smuggler'`).toHaveLength(0);
  });
});

describe("Idempotency-Key", () => {
  const trigger = (key: string, params: Record<string, string>) =>
    made.request("/api/v1/scheduler/jobs/echo/trigger", {
      method: "POST",
      headers: { ...ADMIN, "idempotency-key": key },
      body: JSON.stringify({ params }),
    });

  it("repeated with the same params returns the first run; with other params it is 422", async () => {
    const first = await trigger("nightly-2026-12-01", { region: "eu", day: "1" });
    expect(first.status).toBe(202);
    const { run_id } = (await first.json()) as { run_id: string };
    const again = await trigger("nightly-2026-12-01", { day: "1", region: "eu" });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ run_id, job_name: "echo", duplicate: true });
    const other = await trigger("nightly-2026-12-01", { region: "us", day: "1" });
    expect(other.status).toBe(422);
    expect(await error(other)).toBe("Idempotency-Key was already used for this job with other params");
    expect((await trigger("nightly-2026-12-01", {})).status).toBe(422);
    expect(await db.sql`select id from job_runs where job_name = 'echo'`).toHaveLength(1);
  });
});
