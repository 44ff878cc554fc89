import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadJobsFile } from "../../src/jobs/jobs-file.js";
import { httpHandler, httpSpec } from "../../src/kinds/http.js";
import { context } from "../helpers/context.js";

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.url?.startsWith("/fail")) res.writeHead(500).end("database is\non fire");
    else if (req.url === "/to-other") res.writeHead(302, { location: `${otherBase}/landed` }).end();
    else if (req.url === "/to-same") res.writeHead(307, { location: "/ok" }).end();
    else if (req.url?.startsWith("/echo"))
      res
        .writeHead(req.url.startsWith("/echo/ok") ? 200 : 403)
        .end(`${req.url} ${req.headers.authorization}`);
    else if (req.url === "/slow") setTimeout(() => res.writeHead(200).end("late"), 5000).unref();
    else if (req.url === "/endless") {
      // An answer that never ends: the handler must stop reading once it has its preview.
      res.writeHead(200);
      const more = () => {
        while (!res.destroyed && res.write("y".repeat(65536)));
        if (!res.destroyed) res.once("drain", more);
      };
      more();
    } else res.writeHead(req.url === "/accepted" ? 202 : 200).end(`hello ${"x".repeat(3000)}`);
  });
});
let base = "";

/** Another origin (another port): what reaches it after a redirect. */
const otherSeen: Seen[] = [];
const other = createServer((req, res) => {
  otherSeen.push({ method: req.method, url: req.url, headers: req.headers, body: "" });
  res.writeHead(200).end("other origin");
});
let otherBase = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});
afterAll(() => {
  other.closeAllConnections();
  other.close();
  server.closeAllConnections();
  server.close();
});

const handler = (spec: unknown) => httpHandler(httpSpec.parse(spec));

describe("http kind against a local server", () => {
  it("sends method, headers and a JSON body, and keeps the status and the first 1024 characters", async () => {
    const result = await handler({
      method: "post",
      url: `${base}/ok`,
      headers: { "x-internal-secret": "abc", "x-count": 5 },
      body: { scan: true },
    })(context());
    expect(result).toEqual({ status: 200, body: `hello ${"x".repeat(1018)}` });
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      body: '{"scan":true}',
      headers: { "x-internal-secret": "abc", "x-count": "5", "content-type": "application/json" },
    });
  });

  it("fails on an unexpected status with the start of the answer", async () => {
    await expect(handler({ url: `${base}/fail` })(context())).rejects.toThrow(
      new Error(`GET ${base}/fail answered 500: database is on fire`),
    );
  });

  it("succeeds only on the statuses listed in expect", async () => {
    await expect(handler({ url: `${base}/accepted`, expect: [200] })(context())).rejects.toThrow(
      `GET ${base}/accepted answered 202: hello xxx`,
    );
    expect(await handler({ url: `${base}/accepted`, expect: [200, 202] })(context())).toMatchObject({
      status: 202,
    });
    expect(await handler({ url: `${base}/fail`, expect: [500] })(context())).toEqual({
      status: 500,
      body: "database is\non fire",
    });
  });

  it("fails with the reason on a refused connection", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(handler({ method: "POST", url: `http://127.0.0.1:${port}/x` })(context())).rejects.toThrow(
      new Error(`POST http://127.0.0.1:${port}/x failed: connect ECONNREFUSED 127.0.0.1:${port}`),
    );
  });

  it("gives up when the run's signal aborts, and at its own timeout", async () => {
    const ctx = context();
    const started = Date.now();
    setTimeout(() => ctx.controller.abort(new Error("timed out after 200 ms")), 200);
    await expect(handler({ url: `${base}/slow` })(ctx)).rejects.toThrow(
      new Error(`GET ${base}/slow failed: timed out after 200 ms`),
    );
    await expect(handler({ url: `${base}/slow`, timeout: "300ms" })(context())).rejects.toThrow(
      new Error(`GET ${base}/slow failed: no answer within 300ms`),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reads no more of an endless answer than the preview needs", async () => {
    const result = await handler({ url: `${base}/endless`, timeout: "5s" })(context());
    expect(result).toEqual({ status: 200, body: "y".repeat(1024) });
  });

  it("refuses a body on GET when the spec is checked", () => {
    expect(httpSpec.safeParse({ url: base, body: "x" }).error?.issues[0]?.message).toBe(
      "a GET request cannot have a body",
    );
  });
});

describe("http jobs from a jobs file", () => {
  it("redacts ${NAME} values from the URL in errors and from results", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "runner-kind-http-")), "jobs.yaml");
    writeFileSync(
      path,
      `jobs:
  - name: denied
    schedule: "@daily"
    http: { url: "${base}/echo?token=\${TOKEN}", headers: { authorization: "Bearer \${TOKEN}" } }
  - name: allowed
    schedule: "@daily"
    http: { url: "${base}/echo/ok?token=\${TOKEN}", headers: { authorization: "Bearer \${TOKEN}" } }
`,
    );
    const token = "tok-3c9a7b";
    const [denied, allowed] = await loadJobsFile(path, { TOKEN: token });
    await expect(Promise.resolve(denied!.run(context()))).rejects.toThrow(
      new Error(`GET ${base}/echo?token=[REDACTED] answered 403: /echo?token=[REDACTED] Bearer [REDACTED]`),
    );
    expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${token}`);
    expect(await allowed!.run(context())).toEqual({
      status: 200,
      body: "/echo/ok?token=[REDACTED] Bearer [REDACTED]",
    });
  });
});

describe("redirects", () => {
  const secretHeaders = {
    "x-internal-secret": "int-5e1",
    "x-api-key": "key-7f2",
    authorization: "Bearer b-9",
  };

  it("follows none by default: the 3xx is the answer, kept with its location, and nothing reaches the target", async () => {
    const before = otherSeen.length;
    await expect(handler({ url: `${base}/to-other`, headers: secretHeaders })(context())).rejects.toThrow(
      new Error(`GET ${base}/to-other answered 302 (redirect to ${otherBase}/landed not followed)`),
    );
    expect(await handler({ url: `${base}/to-other`, expect: [302] })(context())).toEqual({
      status: 302,
      body: "",
      location: `${otherBase}/landed`,
    });
    expect(otherSeen.length).toBe(before);
  });

  it("follow_redirects: true follows the same origin with the job's headers, and stops at another origin", async () => {
    const result = await handler({
      method: "POST",
      url: `${base}/to-same`,
      headers: secretHeaders,
      body: "payload",
      follow_redirects: true,
    })(context());
    expect(result).toMatchObject({ status: 200 });
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      url: "/ok",
      body: "payload",
      headers: { "x-api-key": "key-7f2" },
    });
    const before = otherSeen.length;
    await expect(
      handler({ url: `${base}/to-other`, headers: secretHeaders, follow_redirects: true })(context()),
    ).rejects.toThrow(`answered 302 (redirect to ${otherBase}/landed not followed)`);
    expect(otherSeen.length).toBe(before);
  });

  it("follow_redirects: any follows another origin, without any of the job's headers", async () => {
    const result = await handler({
      url: `${base}/to-other`,
      headers: { ...secretHeaders, "x-custom": "c-1" },
      follow_redirects: "any",
    })(context());
    expect(result).toEqual({ status: 200, body: "other origin" });
    const landed = otherSeen.at(-1)!;
    expect(landed.url).toBe("/landed");
    for (const name of ["x-internal-secret", "x-api-key", "authorization", "x-custom", "cookie"])
      expect(landed.headers[name], name).toBeUndefined();
  });

  it("refuses a follow_redirects that is not true, false or any", () => {
    expect(httpSpec.safeParse({ url: base, follow_redirects: "same" }).error?.issues[0]).toMatchObject({
      path: ["follow_redirects"],
      message: 'expected true, false or "any"',
    });
  });
});
