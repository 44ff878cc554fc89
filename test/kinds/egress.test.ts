import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { parseApiDefinition } from "../../src/jobs/definitions.js";
import { type EgressPolicy, egressCheck, egressProblem } from "../../src/kinds/egress.js";
import { context } from "../helpers/context.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

const db = await testDatabase("egress");

/** A local service that must stay out of reach: every path it is asked for is noted. */
const asked: string[] = [];
const service = createServer((req, res) => {
  asked.push(req.url ?? "");
  if (req.url === "/to-localhost") res.writeHead(302, { location: `http://localhost:${port}/secret` }).end();
  else res.writeHead(200).end("internal data");
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
  port = (service.address() as AddressInfo).port;
});
afterAll(() => {
  service.closeAllConnections();
  service.close();
});

const policy = (allowedHosts: string[] | undefined, production = false): EgressPolicy => ({
  allowedHosts,
  production,
});
const job = (url: string, extra: Record<string, unknown> = {}) => ({
  name: "call",
  schedule: "@daily",
  http: { url, ...extra },
});
/** Register as the API does, then run the job once: the error it fails with. */
async function runRegistered(allowed: string[], url: string, extra: Record<string, unknown> = {}) {
  const parsed = parseApiDefinition(job(url, extra), policy(allowed));
  expect(parsed.problems).toEqual([]);
  return Promise.resolve(parsed.job!.run(context())).then(
    (result) => ({ result, error: undefined }),
    (error: Error) => ({ result: undefined, error: error.message }),
  );
}

describe("what jobs registered over HTTP may call (SCHEDULER_API_ALLOWED_HOSTS)", () => {
  it("reads the variable as lower-case hosts and .suffixes, and refuses a URL in it with one line", () => {
    expect(loadConfig({ SCHEDULER_API_ALLOWED_HOSTS: " API.example.com,.corp.example,," })).toMatchObject({
      schedulerApiAllowedHosts: ["api.example.com", ".corp.example"],
    });
    expect(() => loadConfig({ SCHEDULER_API_ALLOWED_HOSTS: "https://api.example.com/x" })).toThrow(
      new ConfigError([
        'SCHEDULER_API_ALLOWED_HOSTS: expected comma-separated host names, IP addresses or ".suffixes" (no scheme, port or path) (got "https://api.example.com/x")',
      ]),
    );
  });

  it("registers only listed hosts: exact ones and .suffixes, decimal IPs read as the address they are", () => {
    const allowed = policy(["api.example.com", ".corp.example"]);
    expect(egressProblem(allowed, new URL("https://api.example.com/x"))).toBeUndefined();
    expect(egressProblem(allowed, new URL("https://a.b.corp.example/"))).toBeUndefined();
    expect(egressProblem(allowed, new URL("https://corp.example/"))).toBeUndefined();
    expect(egressProblem(allowed, new URL("https://evilcorp.example/"))).toBe(
      "host evilcorp.example is not in SCHEDULER_API_ALLOWED_HOSTS",
    );
    expect(parseApiDefinition(job("http://2130706433/"), allowed).problems).toEqual([
      "http.url: host 127.0.0.1 is not in SCHEDULER_API_ALLOWED_HOSTS",
    ]);
    expect(parseApiDefinition(job("http://169.254.169.254/latest/meta-data/"), allowed).problems).toEqual([
      "http.url: host 169.254.169.254 is not in SCHEDULER_API_ALLOWED_HOSTS",
    ]);
    // Unset: refused in production, unchecked (with a startup warning) elsewhere.
    expect(egressProblem(policy(undefined, true), new URL("https://api.example.com/"))).toMatch(
      /^jobs registered over HTTP are disabled/,
    );
    expect(egressProblem(policy(undefined), new URL("http://127.0.0.1/"))).toBeUndefined();
  });

  it("checks the address after DNS: a name under a listed suffix that resolves to loopback is refused", async () => {
    const asking = asked.length;
    const { error } = await runRegistered([".localhost"], `http://localhost:${port}/secret`);
    expect(error).toMatch(
      new RegExp(
        `^GET http://localhost:${port}/secret failed: refused: localhost resolves to (127\\.0\\.0\\.1|::1), a loopback, private, link-local or metadata address`,
      ),
    );
    expect(asked.length).toBe(asking);
    await expect(egressCheck(policy([".localhost"]))!(new URL("http://[::ffff:127.0.0.1]/"))).rejects.toThrow(
      "refused: host ::ffff:7f00:1 is not in SCHEDULER_API_ALLOWED_HOSTS",
    );
  });

  it("allows loopback only when listed exactly, the decimal form included", async () => {
    expect(await runRegistered(["127.0.0.1"], `http://2130706433:${port}/ok`)).toEqual({
      result: { status: 200, body: "internal data" },
      error: undefined,
    });
    await expect(egressCheck(policy(["localhost"]))!(new URL("http://localhost/"))).resolves.toBeUndefined();
  });

  it("checks every redirect hop: a hop to a host that is not listed is refused before it is called", async () => {
    const asking = asked.length;
    const { error } = await runRegistered(["127.0.0.1"], `http://127.0.0.1:${port}/to-localhost`, {
      follow_redirects: "any",
    });
    expect(error).toBe(
      `GET http://127.0.0.1:${port}/to-localhost failed: refused: host localhost is not in SCHEDULER_API_ALLOWED_HOSTS`,
    );
    expect(asked.slice(asking)).toEqual(["/to-localhost"]);
  });

  it("the API: 503 in production while the list is unset, 400 naming the field for a host off the list", async () => {
    const admin = { ...basic("ops", "pw-egress-1"), "content-type": "application/json" };
    const credentials = { ADMIN_BASIC_USERNAME: "ops", ADMIN_BASIC_PASSWORD: "pw-egress-1" };
    const register = async (env: Record<string, string>, url: string) => {
      const made = await sidecarRunner(db.sql, { ...credentials, ...env });
      try {
        await made.runner.start();
        const res = await made.request("/api/v1/scheduler/jobs", {
          method: "POST",
          headers: admin,
          body: JSON.stringify(job(url)),
        });
        return { status: res.status, body: (await res.json()) as { error?: string } };
      } finally {
        await made.runner.stop();
      }
    };
    expect(await register({ RUNNER_ENV: "production" }, "https://api.example.com/")).toEqual({
      status: 503,
      body: { error: "registering jobs over HTTP is disabled: SCHEDULER_API_ALLOWED_HOSTS is unset" },
    });
    expect(
      await register({ SCHEDULER_API_ALLOWED_HOSTS: "api.example.com" }, "http://2130706433:5432/"),
    ).toEqual({
      status: 400,
      body: { error: "http.url: host 127.0.0.1 is not in SCHEDULER_API_ALLOWED_HOSTS" },
    });
  });
});
