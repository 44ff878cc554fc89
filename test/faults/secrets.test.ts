import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";

const db = await testDatabase("secrets");

/** Distinctive values: if any of them shows up anywhere, the test names it. */
const SECRETS = {
  ADMIN_BASIC_PASSWORD: "s3cr3t-admin-pw-a1",
  INTERNAL_SECRET: "s3cr3t-internal-b2",
  WEBHOOK_TOKEN: "s3cr3t-webhook-c3",
  PING_TOKEN: "s3cr3t-ping-d4",
  JOB_TOKEN: "s3cr3t-job-e5",
};

describe("secrets never leak", () => {
  it("appear in no log line, run record or error message, across the scenarios that handle them", async () => {
    // An endpoint that echoes what it was sent, and fails: the worst case for an error message.
    const echo = createServer((req, res) => {
      res
        .writeHead(req.url?.startsWith("/hook") ? 200 : 500)
        .end(`you sent ${JSON.stringify(req.headers)} to ${req.url}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const jobs = jobsModule(
      `jobs:
  - name: call_api
    schedule: "@yearly"
    http: { method: POST, url: "${base}/api?token=\${JOB_TOKEN}", headers: { authorization: "Bearer \${JOB_TOKEN}" } }
  - name: script
    schedule: "@yearly"
    command: { shell: "echo token=$TOKEN; echo failing with $TOKEN >&2; exit 1", env: { TOKEN: "\${JOB_TOKEN}" } }
`,
      "jobs.yaml",
    );
    const env = {
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
      ADMIN_BASIC_USERNAME: "ops",
      ADMIN_BASIC_PASSWORD: SECRETS.ADMIN_BASIC_PASSWORD,
      INTERNAL_SECRET: SECRETS.INTERNAL_SECRET,
      ALERT_WEBHOOK_URL: `${base}/hook?token=${SECRETS.WEBHOOK_TOKEN}`,
      ALERT_AFTER_FAILURES: "1",
      HEARTBEAT_PING_URL: `http://127.0.0.1:1/ping/${SECRETS.PING_TOKEN}`,
      JOB_TOKEN: SECRETS.JOB_TOKEN,
      LOG_LEVEL: "debug",
    };
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], env);
    try {
      const port = Number(
        (await daemon.waitForLog((l) => String(l.msg).startsWith("http sidecar listening"))).port,
      );
      await daemon.waitForLog((l) => l.msg === "runner started");
      const url = (path: string) => `http://127.0.0.1:${port}${path}`;
      const basic = (pw: string) => ({
        authorization: `Basic ${Buffer.from(`ops:${pw}`).toString("base64")}`,
      });
      await fetch(url("/v1/admin/jobs/status"), { headers: basic(SECRETS.ADMIN_BASIC_PASSWORD) });
      await fetch(url("/v1/admin/jobs/status"), { headers: basic(`${SECRETS.ADMIN_BASIC_PASSWORD}x`) });
      for (const job of ["call_api", "script"]) {
        await fetch(url(`/v1/jobs/${job}/trigger`), {
          method: "POST",
          headers: { "x-internal-secret": SECRETS.INTERNAL_SECRET },
        });
      }
      await fetch(url("/v1/jobs/call_api/trigger"), {
        method: "POST",
        headers: { "x-internal-secret": `${SECRETS.INTERNAL_SECRET}-wrong` },
      });
      for (const job of ["call_api", "script"])
        await daemon.waitForLog((l) => String(l.msg).startsWith("run failed") && l.job_name === job);
      // The heartbeat ping to a closed port fails and is logged after its retries.
      await daemon.waitForLog((l) => String(l.msg).startsWith("heartbeat ping failed"), 15_000);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
      echo.close();
    }
    const check = await runCli(["check", "--jobs", jobs], {
      ...env,
      ALERT_WEBHOOK_URL: `ftp://x/${SECRETS.WEBHOOK_TOKEN}`,
    });
    expect(check.code).toBe(2);
    const runs = await db.sql`select error, result, params from job_runs`;
    const beats = await db.sql`select last_error from job_heartbeats`;
    const everything = [
      daemon.stdout,
      daemon.stderr,
      check.stdout,
      check.stderr,
      JSON.stringify(runs),
      JSON.stringify(beats),
    ].join("\n");
    expect(JSON.stringify(runs)).toContain("[REDACTED]");
    for (const [name, value] of Object.entries(SECRETS))
      expect(everything.includes(value), `${name} leaked`).toBe(false);
    expect(everything).not.toContain(Buffer.from(`ops:${SECRETS.ADMIN_BASIC_PASSWORD}`).toString("base64"));
  }, 60_000);

  it("under --once too: a command's environment, a job's result, error and log lines, an unhandled rejection", async () => {
    const ONCE = {
      DB_PASSWORD: "s3cr3t-db-pw-f6",
      ADMIN_BASIC_PASSWORD: "s3cr3t-admin-pw-g7",
      INTERNAL_SECRET: "s3cr3t-internal-h8",
      WEBHOOK_USER_PASSWORD: "s3cr3t-hook-pw-i9",
      WEBHOOK_PATH_TOKEN: "s3cr3tHookPathJ10",
      PING_QUERY_TOKEN: "s3cr3t-ping-k11",
    };
    // The local server trusts local connections: any password is accepted, so it can be a
    // distinctive one. The embedded server checks its own random password: that one is the secret.
    const url = new URL(db.url);
    if (url.password) ONCE.DB_PASSWORD = decodeURIComponent(url.password);
    else url.password = ONCE.DB_PASSWORD;
    const dbUrl = url.href;
    expect(dbUrl).toContain(encodeURIComponent(ONCE.DB_PASSWORD));
    const module = jobsModule(`
const everything = () => [process.env.DATABASE_URL, process.env.ADMIN_BASIC_PASSWORD, process.env.INTERNAL_SECRET,
  process.env.ALERT_WEBHOOK_URL, process.env.HEARTBEAT_PING_URL].join(" ");
export default [
  { name: "talky", schedule: "@yearly", run: (ctx) => { ctx.log.info({ all: everything() }, "all: " + everything()); return { all: everything() }; } },
  { name: "leaky", schedule: "@yearly", run: () => {
    Promise.reject(new Error("leaked " + everything()));
    throw new Error("failing with " + everything());
  } },
];`);
    const file = jobsModule(
      `jobs:
  - name: envdump
    schedule: "@yearly"
    command: { argv: ["env"] }
`,
      "jobs.yaml",
    );
    const once = await runCli(
      ["--once", "--job", "talky", "--job", "leaky", "--job", "envdump", "--jobs", module, "--jobs", file],
      {
        DATABASE_URL: dbUrl,
        DATABASE_SCHEMA: db.schema,
        ADMIN_BASIC_USERNAME: "ops",
        ADMIN_BASIC_PASSWORD: ONCE.ADMIN_BASIC_PASSWORD,
        INTERNAL_SECRET: ONCE.INTERNAL_SECRET,
        ALERT_WEBHOOK_URL: `https://hooks:${ONCE.WEBHOOK_USER_PASSWORD}@hooks.example.invalid/services/${ONCE.WEBHOOK_PATH_TOKEN}`,
        HEARTBEAT_PING_URL: `https://ping.example.invalid/heartbeat?token=${ONCE.PING_QUERY_TOKEN}`,
        LOG_LEVEL: "debug",
      },
    );
    const runs =
      await db.sql`select job_name, status, error, result from job_runs where job_name in ('talky', 'leaky', 'envdump')`;
    const byName = Object.fromEntries(runs.map((run) => [run.job_name, run]));
    expect(byName).toMatchObject({
      talky: { status: "succeeded" },
      leaky: { status: "failed" },
      envdump: { status: "succeeded" },
    });
    // The command ran with the minimal environment: none of the daemon's secrets are in it at all.
    const dumped = String(byName.envdump?.result.stdout);
    expect(dumped).toContain("RUNNER_JOB_NAME=envdump");
    for (const name of ["DATABASE_URL", "ADMIN_BASIC_PASSWORD", "INTERNAL_SECRET", "ALERT_WEBHOOK_URL"])
      expect(dumped).not.toContain(`${name}=`);
    expect(byName.talky?.result.all).toContain("[REDACTED]");
    expect(once.stderr).toContain("unhandled rejection (ignored)");
    const everything = [once.stdout, once.stderr, JSON.stringify(runs)].join("\n");
    for (const [name, value] of Object.entries(ONCE))
      expect(everything.includes(value), `${name} leaked`).toBe(false);
  }, 60_000);
});
