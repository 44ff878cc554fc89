import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { loadJobsFile, parseHttpJobDefinition } from "../../src/jobs-file.js";

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "runner-jobsfile-")), name);
  writeFileSync(path, text);
  return path;
}

async function problems(path: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadJobsFile(path, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const GOOD = `jobs:
  - name: recertification_scan
    schedule: "0 6 * * *"
    timezone: Europe/Berlin
    timeout: 5m
    retries: { attempts: 3, backoff: exponential, initial: 30s }
    http:
      method: POST
      url: https://api.example.com/v1/recertification-scan
      headers: { x-internal-secret: "\${RECERT_SECRET}", content-type: application/json }
      body: "{}"
      expect: [200, 202]
  - name: verify_backup
    schedule: "0 4 * * 0"
    command: { argv: ["/opt/scripts/verify_backup.sh", "--quick"], cwd: /opt/scripts }
  - name: db_maintenance
    schedule: "0 3 * * 0"
    sql: { statements: ["VACUUM ANALYZE audit_log"], transaction: false }
`;

describe("jobs files", () => {
  it("loads the contract's example with every option", async () => {
    const jobs = await loadJobsFile(file("jobs.yaml", GOOD), { RECERT_SECRET: "s3cr3t" });
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.timeoutMs, j.retries.attempts])).toEqual([
      ["recertification_scan", "0 6 * * *", "Europe/Berlin", 300_000, 3],
      ["verify_backup", "0 4 * * 0", "UTC", 3_600_000, 1],
      ["db_maintenance", "0 3 * * 0", "UTC", 3_600_000, 1],
    ]);
  });

  it("reads JSON with positions too", async () => {
    const path = file(
      "jobs.json",
      '{"jobs": [{"name": "j", "schedule": "@daily", "command": {"shell": "true"}, "extra": 1}]}',
    );
    expect(await problems(path)).toEqual(['jobs.json:1:77: job "j": unknown field "extra"']);
  });

  it("names file, line and column, job and field for every problem", async () => {
    const path = file(
      "broken.yaml",
      `jobs:
  - name: needs_secret
    schedule: "@hourly"
    http: { url: "https://x.example/\${MISSING_TOKEN}" }
  - name: bad_cron
    schedule: "61 * * * *"
    command: { argv: ["true"] }
  - name: typo
    schedule: "@daily"
    htpp: { url: "http://x" }
  - name: no_kind
    schedule: "@daily"
  - name: two_kinds
    schedule: "@daily"
    command: { shell: "true" }
    sql: { statement: "select 1" }
  - name: bad_url
    schedule: "@daily"
    http: { url: "ftp://x" }
`,
    );
    expect(await problems(path)).toEqual([
      'broken.yaml:4:18: job "needs_secret": http.url: environment variable MISSING_TOKEN is not set',
      'broken.yaml:6:15: job "bad_cron": schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
      'broken.yaml:10:5: job "typo": unknown field "htpp"',
      'broken.yaml:8:5: job "typo": expected exactly one of http, command, sql',
      'broken.yaml:11:5: job "no_kind": expected exactly one of http, command, sql',
      'broken.yaml:13:5: job "two_kinds": expected exactly one of http, command, sql (got command and sql)',
      'broken.yaml:19:18: job "bad_url": http.url: expected an http:// or https:// URL',
    ]);
  });

  it("reports invalid YAML with its position, and a missing jobs list", async () => {
    expect(await problems(file("bad.yaml", "jobs:\n  - name: [\n"))).toEqual([
      "bad.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    expect(await problems(file("empty.yaml", "hello: world\n"))).toEqual([
      'empty.yaml: expected a top-level "jobs:" list',
    ]);
    expect(await problems("/nonexistent/jobs.yaml")).toEqual([
      "--jobs /nonexistent/jobs.yaml: file not found",
    ]);
  });
});

describe("jobs registered over HTTP", () => {
  it("accepts an http job and refuses command and sql jobs", () => {
    const ok = parseHttpJobDefinition(
      { name: "ping_api", schedule: "*/5 * * * *", http: { url: "https://api.example.com/ping" } },
      {},
    );
    expect(ok.problems).toEqual([]);
    expect(ok.job?.name).toBe("ping_api");
    expect(
      parseHttpJobDefinition({ name: "x", schedule: "@daily", command: { shell: "rm -rf /" } }, {}).problems,
    ).toEqual(["only http jobs can be registered over HTTP"]);
  });

  it("names the bad field", () => {
    expect(
      parseHttpJobDefinition(
        { name: "x", schedule: "@daily", http: { url: "https://x", method: "FETCH" } },
        {},
      ).problems[0],
    ).toMatch(/^http\.method: /);
    expect(
      parseHttpJobDefinition({ name: "x", schedule: "* * *", http: { url: "https://x" } }, {}).problems[0],
    ).toMatch(/^schedule: cron expression/);
  });
});
