import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandHandler, commandSpec } from "../../src/kinds/command.js";
import { httpHandler, httpSpec } from "../../src/kinds/http.js";
import { scrubbing } from "../../src/kinds/interpolate.js";
import { sqlHandler, sqlSpec } from "../../src/kinds/sql.js";
import { context } from "../helpers/context.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("kinds");

describe("http kind against a local server", () => {
  let server: Server;
  let base = "";
  const seen: { method?: string; headers: Record<string, unknown>; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({ method: req.method, headers: req.headers, body });
        if (req.url?.startsWith("/fail")) res.writeHead(500).end("database is on fire");
        else if (req.url === "/slow") setTimeout(() => res.writeHead(200).end("late"), 5000);
        else res.writeHead(req.url === "/accepted" ? 202 : 200).end(`hello ${"x".repeat(3000)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const handler = (spec: unknown, timeout = 10_000) => httpHandler(httpSpec.parse(spec), timeout);

  it("sends method, headers and JSON body, and keeps the status and the first KiB", async () => {
    const result = (await handler({
      method: "POST",
      url: `${base}/ok`,
      headers: { "x-internal-secret": "abc" },
      body: { scan: true },
    })(context())) as {
      status: number;
      body: string;
    };
    expect(result.status).toBe(200);
    expect(result.body).toHaveLength(1024);
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      body: '{"scan":true}',
      headers: { "x-internal-secret": "abc", "content-type": "application/json" },
    });
  });

  it("fails on an unexpected status with the reason, and honours expect", async () => {
    await expect(handler({ url: `${base}/fail` })(context())).rejects.toThrow(
      `GET ${base}/fail answered 500: database is on fire`,
    );
    await expect(handler({ url: `${base}/accepted`, expect: [200] })(context())).rejects.toThrow(
      /answered 202/,
    );
    expect(await handler({ url: `${base}/accepted`, expect: [200, 202] })(context())).toMatchObject({
      status: 202,
    });
  });

  it("fails on a refused connection and on a timeout", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(handler({ url: `http://127.0.0.1:${port}/x` })(context())).rejects.toThrow(
      new RegExp(`GET http://127.0.0.1:${port}/x failed: .*ECONNREFUSED`),
    );
    const started = Date.now();
    await expect(handler({ url: `${base}/slow`, timeout: "300ms" })(context())).rejects.toThrow(/failed/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("redacts environment secrets from results and errors", async () => {
    const secret = "tok-9f8e7d";
    const wrapped = scrubbing([secret], handler({ url: `${base}/fail?token=${secret}` }));
    await expect(wrapped(context())).rejects.toThrow(`${base}/fail?token=[REDACTED] answered 500`);
  });
});

describe("command kind with real processes", () => {
  const handler = (spec: unknown) => commandHandler(commandSpec.parse(spec));

  it("succeeds on exit 0 and keeps the output", async () => {
    expect(await handler({ argv: ["sh", "-c", "echo out; echo err >&2"] })(context())).toEqual({
      exit_code: 0,
      stdout: "out\n",
      stderr: "err\n",
    });
    expect(
      await handler({ shell: "echo $GREETING from $RUNNER_JOB_NAME", env: { GREETING: "hi" } })(
        context({ jobName: "greeter" }),
      ),
    ).toMatchObject({
      stdout: "hi from greeter\n",
    });
  });

  it("fails with the exit code and the tail of stderr", async () => {
    await expect(handler({ shell: "echo 'disk full' >&2; exit 3" })(context())).rejects.toThrow(
      "exited with code 3: disk full",
    );
    await expect(handler({ argv: ["/nonexistent/tool"] })(context())).rejects.toThrow(
      /could not start \/nonexistent\/tool/,
    );
  });

  it("keeps only the last 4 KiB of output", async () => {
    const result = (await handler({ shell: "head -c 100000 /dev/zero | tr '\\0' a; echo END" })(
      context(),
    )) as { stdout: string };
    expect(result.stdout.length).toBe(4096);
    expect(result.stdout.endsWith("aEND\n")).toBe(true);
  });

  it("on abort sends SIGTERM to the group, then SIGKILL after the grace to a process that ignores it", async () => {
    const ctx = context();
    const run = handler({ shell: "trap '' TERM; sleep 30 & wait; sleep 30", kill_grace: "300ms" })(ctx);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    ctx.controller.abort();
    await expect(run).rejects.toThrow(/killed by SIGKILL|exited with code/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("sql kind against real PostgreSQL", () => {
  const handler = (spec: unknown, timeout = 10_000) => sqlHandler(sqlSpec.parse(spec), timeout);

  it("runs statements in a transaction and keeps the rows affected", async () => {
    const table = `"${db.schema}".tasks`;
    await db.sql.unsafe(`create table ${table} (id int, due date, overdue boolean default false)`);
    await db.sql.unsafe(
      `insert into ${table} values (1, '2020-01-01'), (2, '2999-01-01'), (3, '2020-06-01')`,
    );
    const result = await handler({
      statements: [`update ${table} set overdue = true where due < current_date`, `select * from ${table}`],
    })(context({ sql: db.sql }));
    expect(result).toEqual({
      statements: [
        { command: "UPDATE", rows_affected: 2 },
        { command: "SELECT", rows_affected: 3 },
      ],
    });
  });

  it("rolls back the whole transaction when a statement fails, naming it", async () => {
    const table = `"${db.schema}".ledger`;
    await db.sql.unsafe(`create table ${table} (n int)`);
    await expect(
      handler({ statements: [`insert into ${table} values (1)`, "select 1/0"] })(context({ sql: db.sql })),
    ).rejects.toThrow("statement 2 failed: division by zero");
    expect((await db.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n).toBe(0);
  });

  it("runs VACUUM outside a transaction, and cancels a statement past the job's timeout", async () => {
    const table = `"${db.schema}".tasks`;
    expect(
      await handler({ statement: `VACUUM ANALYZE ${table}`, transaction: false })(context({ sql: db.sql })),
    ).toEqual({
      statements: [{ command: "VACUUM", rows_affected: 0 }],
    });
    await expect(handler({ statement: "select pg_sleep(5)" }, 500)(context({ sql: db.sql }))).rejects.toThrow(
      /statement 1 failed: canceling statement due to statement timeout/,
    );
  });

  it("uses a database_url of its own when given", async () => {
    expect(await handler({ statement: "select 1", database_url: db.url })(context({ sql: db.sql }))).toEqual({
      statements: [{ command: "SELECT", rows_affected: 1 }],
    });
  });
});
