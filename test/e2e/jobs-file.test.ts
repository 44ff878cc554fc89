import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess, runCli } from "../helpers/process.js";

const db = await testDatabase("jobsfile");

describe("a jobs file driving a real daemon", () => {
  it("runs http, command and sql jobs without code, and redacts the ${NAME} secret", async () => {
    const seen: string[] = [];
    const receiver = createServer((req, res) => {
      seen.push(String(req.headers["x-internal-secret"]));
      res.end("scanned");
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/scan`;
    const file = jobsModule(
      `jobs:
  - name: scan
    schedule: "* * * * * *"
    catchUp: none
    http: { method: POST, url: "${url}", headers: { x-internal-secret: "\${SCAN_SECRET}" } }
  - name: script
    schedule: "* * * * * *"
    catchUp: none
    command: { shell: "echo hello from $RUNNER_JOB_NAME" }
  - name: overdue
    schedule: "* * * * * *"
    catchUp: none
    sql: { statement: "select 1" }
`,
      "jobs.yaml",
    );
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", file], {
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
      SCAN_SECRET: "scan-secret-31337",
    });
    try {
      for (const name of ["scan", "script", "overdue"]) {
        await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === name);
      }
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
      receiver.close();
    }
    expect(seen[0]).toBe("scan-secret-31337");
    const results =
      await db.sql`select distinct on (job_name) job_name, result from job_runs where status = 'succeeded' order by job_name, id`;
    expect(Object.fromEntries(results.map((r) => [r.job_name, r.result]))).toEqual({
      scan: { status: 200, body: "scanned" },
      script: { exit_code: 0, stdout: "hello from script\n", stderr: "" },
      overdue: { statements: [{ command: "SELECT", rows_affected: 1 }] },
    });
    expect(daemon.stdout).not.toContain("scan-secret-31337");
  });

  it("stops startup with exit 2 and line:column for a bad file", async () => {
    const file = jobsModule(
      'jobs:\n  - name: x\n    schedule: "@daily"\n    http: { url: "https://x", metod: POST }\n',
      "jobs.yaml",
    );
    const result = await runCli(["--jobs", file], { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('runner: jobs.yaml:4:31: job "x": http: unknown field "metod"');
  });
});
