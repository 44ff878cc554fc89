import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { startSidecar } from "../../src/http/sidecar.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { RunnerProcess } from "../helpers/process.js";
import { testRunner } from "../helpers/runner.js";

const db = await testDatabase("security");
const PASSWORD = "pa55-word-9c1e";
const SECRET = "x-secret-44d0b";

describe("production without credentials", () => {
  it("answers 503 before comparing anything", async () => {
    const made = await sidecarRunner(db.sql, { RUNNER_ENV: "production" });
    made.runner.registerJob({ name: "job", schedule: "@yearly", run: () => {} });
    await made.runner.start();
    try {
      for (const [method, path] of [
        ["GET", "/v1/admin/jobs/status"],
        ["GET", "/api/v1/scheduler/jobs"],
        ["POST", "/v1/jobs/job/trigger"],
      ] as const) {
        const res = await made.request(path, { method, headers: basic("any", "thing") });
        expect(res.status).toBe(503);
      }
      expect((await made.request("/readyz")).status).toBe(200);
      expect((await made.request("/metrics")).status).toBe(200);
    } finally {
      await made.runner.stop();
    }
  });
});

describe("auth rules", () => {
  const started = async (env: Record<string, string>) => {
    const made = await sidecarRunner(db.sql, env);
    made.runner.registerJob({ name: "job", schedule: "@yearly", run: () => {} });
    await made.runner.start();
    return made;
  };
  const trigger = (made: Awaited<ReturnType<typeof started>>, headers: Record<string, string> = {}) =>
    made.request("/v1/jobs/job/trigger", { method: "POST", headers });

  it("leaves endpoints open outside production when nothing is configured, and says so", async () => {
    const made = await started({});
    try {
      expect((await made.request("/v1/admin/jobs/status")).status).toBe(200);
      expect((await trigger(made)).status).toBe(202);
      expect(made.lines.join("")).toContain("admin endpoints are open");
    } finally {
      await made.runner.stop();
    }
  });

  it("answers 503 when only one of the Basic credentials is set, whatever the environment", async () => {
    const made = await started({ ADMIN_BASIC_USERNAME: "ops" });
    try {
      const res = await made.request("/v1/admin/jobs/status", { headers: basic("ops", "") });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/ADMIN_BASIC_PASSWORD/);
      expect((await trigger(made)).status).toBe(503);
    } finally {
      await made.runner.stop();
    }
  });

  it("in production: Basic set and INTERNAL_SECRET unset, the trigger answers 503 and admin checks Basic", async () => {
    const made = await started({
      RUNNER_ENV: "production",
      ADMIN_BASIC_USERNAME: "ops",
      ADMIN_BASIC_PASSWORD: PASSWORD,
    });
    try {
      expect((await trigger(made, basic("ops", PASSWORD))).status).toBe(503);
      expect((await made.request("/v1/admin/jobs/status", { headers: basic("ops", PASSWORD) })).status).toBe(
        200,
      );
      for (const headers of [{}, basic("ops", "wrong")]) {
        const res = await made.request("/v1/admin/jobs/status", { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="runner"/);
      }
    } finally {
      await made.runner.stop();
    }
  });

  it("in production: INTERNAL_SECRET set and Basic unset, the trigger checks the secret and admin answers 503", async () => {
    const made = await started({ RUNNER_ENV: "production", INTERNAL_SECRET: SECRET });
    try {
      expect((await trigger(made, { "x-internal-secret": SECRET })).status).toBe(202);
      expect((await trigger(made, { "x-internal-secret": `${SECRET}-wrong` })).status).toBe(401);
      expect((await trigger(made)).status).toBe(401);
      expect((await made.request("/v1/admin/jobs/status", { headers: basic("ops", PASSWORD) })).status).toBe(
        503,
      );
    } finally {
      await made.runner.stop();
    }
  });
});

describe("bad input and secrets", () => {
  let made: Awaited<ReturnType<typeof sidecarRunner>>;
  beforeAll(async () => {
    made = await sidecarRunner(db.sql, {
      ADMIN_BASIC_USERNAME: "ops",
      ADMIN_BASIC_PASSWORD: PASSWORD,
      INTERNAL_SECRET: SECRET,
      LOG_LEVEL: "debug",
    });
    made.runner.registerJob({ name: "echo", schedule: "@yearly", run: () => "ok" });
    made.runner.registerJob({
      name: "leaky",
      schedule: "@yearly",
      run: () => {
        throw new Error(`could not log in with ${PASSWORD}`);
      },
    });
    await made.runner.start();
  });
  afterAll(() => made.runner.stop());

  it("answers 413 to a body over 64 KiB, 400 to malformed JSON, 404 and 405", async () => {
    const asJson = { "x-internal-secret": SECRET, "content-type": "application/json" };
    const big = await made.request("/v1/jobs/echo/trigger", {
      method: "POST",
      headers: asJson,
      body: "x".repeat(64 * 1024 + 1),
    });
    expect(big.status).toBe(413);
    const bad = await made.request("/v1/jobs/echo/trigger", { method: "POST", headers: asJson, body: "{" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^malformed JSON body/);
    expect((await made.request("/no/such/path")).status).toBe(404);
    const wrongMethod = await made.request("/metrics", { method: "POST" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD");
    expect((await made.request("/livez", { method: "HEAD" })).status).toBe(200);
    // Odd request targets are paths, not hosts, and never a 500.
    expect((await made.request("//")).status).toBe(404);
    expect((await made.request("//metrics")).status).toBe(404);
    const badOrigin = await made.request("/ui/jobs/echo/trigger", {
      method: "POST",
      headers: { ...basic("ops", PASSWORD), origin: "http://[" },
    });
    expect(badOrigin.status).toBe(403);
    expect(
      (await made.request("/v1/admin/jobs/%E0%A4%A/runs", { headers: basic("ops", PASSWORD) })).status,
    ).toBe(400);
  });

  it("does not let a trickling client hold the listener", async () => {
    const socket = connect(made.sidecar.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET /livez HTTP/1.1\r\nHost: x\r\n");
    // The slow client is still sending headers; others are served meanwhile.
    for (let i = 0; i < 5; i++) expect((await made.request("/livez")).status).toBe(200);
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    await new Promise((resolve) => socket.once("close", resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 15_000);

  it("never writes a password, secret or Authorization value to the log", async () => {
    await made.request("/v1/admin/jobs/status", { headers: basic("ops", PASSWORD) });
    await made.request("/v1/admin/jobs/status", { headers: basic("ops", `${PASSWORD}-wrong`) });
    await made.request("/v1/jobs/echo/trigger", { method: "POST", headers: { "x-internal-secret": SECRET } });
    await made.request("/v1/jobs/echo/trigger", {
      method: "POST",
      headers: { "x-internal-secret": `${SECRET}x` },
    });
    await (await made.runner.triggerJob("leaky")).done;
    made.runner.log.info(
      { headers: { authorization: basic("ops", PASSWORD).authorization, "x-internal-secret": SECRET } },
      "a careless line",
    );
    made.runner.log.flush();
    const log = made.lines.join("");
    expect(log).toContain("could not log in with [REDACTED]");
    expect(log).toContain("[REDACTED]");
    for (const secret of [PASSWORD, SECRET, Buffer.from(`ops:${PASSWORD}`).toString("base64")])
      expect(log).not.toContain(secret);
  });
});

describe("listening", () => {
  it("names the port when it is already in use", async () => {
    const first = await sidecarRunner(db.sql);
    const second = testRunner(db.sql, { HTTP_HOST: "127.0.0.1", HTTP_PORT: String(first.sidecar.port) });
    await expect(startSidecar(second.runner)).rejects.toThrow(ConfigError);
    await expect(
      startSidecar(
        testRunner(db.sql, { HTTP_HOST: "127.0.0.1", HTTP_PORT: String(first.sidecar.port) }).runner,
      ),
    ).rejects.toThrow(`HTTP_PORT: port ${first.sidecar.port} on 127.0.0.1 is already in use`);
    await first.sidecar.close();
  });

  it("makes `runner run` exit 2 naming the port, before it reaches for the database", async () => {
    const busy = await sidecarRunner(db.sql);
    try {
      // The database is a closed port: a busy port must be reported first, and fast.
      const daemon = new RunnerProcess(["run"], {
        DATABASE_URL: "postgres://runner@127.0.0.1:9/none",
        HTTP_PORT: String(busy.sidecar.port),
      });
      const exit = await daemon.exited;
      expect(exit.code).toBe(2);
      expect(exit.stderr).toContain(`HTTP_PORT: port ${busy.sidecar.port} on 127.0.0.1 is already in use`);
      expect(exit.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await busy.sidecar.close();
    }
  });
});
