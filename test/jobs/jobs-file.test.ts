import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { loadJobsFile, parseHttpJobDefinition } from "../../src/jobs/jobs-file.js";
import { context } from "../helpers/context.js";

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "runner-jobsfile-")), name);
  writeFileSync(path, text);
  return path;
}

/** The lines a user sees from `runner check`, or [] when the file loads. */
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
      url: \${API_BASE}/v1/recertification-scan
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

describe("loading a jobs file", () => {
  it("loads the contract's example with every option, resolving ${NAME} before checking the URL", async () => {
    const env = { API_BASE: "https://api.example.com", RECERT_SECRET: "s3cr3t-value" };
    const jobs = await loadJobsFile(file("jobs.yaml", GOOD), env);
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.timeoutMs, j.retries.attempts])).toEqual([
      ["recertification_scan", "0 6 * * *", "Europe/Berlin", 300_000, 3],
      ["verify_backup", "0 4 * * 0", "UTC", 3_600_000, 1],
      ["db_maintenance", "0 3 * * 0", "UTC", 3_600_000, 1],
    ]);
    expect(jobs[0]!.source).toMatch(/jobs\.yaml$/);
  });

  it("reads JSON through the same parser, with positions", async () => {
    const path = file(
      "jobs.json",
      '{"jobs": [{"name": "j", "schedule": "@daily", "command": {"shell": "true"}, "extra": 1}]}',
    );
    expect(await problems(path)).toEqual(['jobs.json:1:77: job "j": unknown field "extra"']);
    const ok = file(
      "ok.json",
      '{"jobs": [{"name": "j", "schedule": "@daily", "command": {"argv": ["true"]}}]}',
    );
    expect((await loadJobsFile(ok, {})).map((j) => j.name)).toEqual(["j"]);
  });

  it("lists every problem of every job, naming file, line:column, job and field", async () => {
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
    http: { url: "ftp://x", method: FETCH }
  - name: everything_wrong
    schedule: "0 25 * * *"
    timezone: Mars/Olympus
    timeout: soon
    http:
      url: \${NOPE}
      expect: ["200"]
  - just a string
`,
    );
    expect(await problems(path)).toEqual([
      'broken.yaml:4:18: job "needs_secret": http.url: environment variable MISSING_TOKEN is not set',
      'broken.yaml:6:15: job "bad_cron": schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
      'broken.yaml:8:5: job "typo": expected exactly one of http, command, sql',
      'broken.yaml:10:5: job "typo": unknown field "htpp"',
      'broken.yaml:11:5: job "no_kind": expected exactly one of http, command, sql',
      'broken.yaml:13:5: job "two_kinds": expected exactly one of http, command, sql (got command and sql)',
      'broken.yaml:19:18: job "bad_url": http.url: expected an http:// or https:// URL',
      'broken.yaml:19:37: job "bad_url": http.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      'broken.yaml:22:15: job "everything_wrong": timezone: unknown time zone "Mars/Olympus" (expected an IANA name such as Europe/Berlin)',
      'broken.yaml:23:14: job "everything_wrong": timeout: expected a duration such as "30s", "10m", "1h" or milliseconds (got "soon")',
      // The unset variable is reported once, not again as an invalid URL.
      'broken.yaml:25:12: job "everything_wrong": http.url: environment variable NOPE is not set',
      'broken.yaml:26:16: job "everything_wrong": http.expect.0: Invalid input: expected number, received string',
      "broken.yaml:27:5: job 8: expected a mapping with name, schedule and one of http, command, sql",
    ]);
  });

  it("reports the contract's examples of problems in a small file", async () => {
    const path = file(
      "jobs.yaml",
      `jobs:
  - name: db_maintenance
    sql: { statement: "vacuum" }
    schedule: "61 * * * *"
  - name: "y"
    schedule: "@daily"
    http:
      url: https://recert.example.com
      headers: { x-secret: "\${RECERT_SECRET}" }
`,
    );
    expect(await problems(path)).toEqual([
      'jobs.yaml:4:15: job "db_maintenance": schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
      'jobs.yaml:9:28: job "y": http.headers.x-secret: environment variable RECERT_SECRET is not set',
    ]);
  });

  it("reports invalid YAML, duplicate keys, a missing jobs list and a missing file", async () => {
    expect(await problems(file("bad.yaml", "jobs:\n  - name: [\n"))).toEqual([
      "bad.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    expect(await problems(file("dup.yaml", "jobs:\n  - name: a\n    name: b\n"))).toEqual([
      "dup.yaml:3:5: invalid YAML: Map keys must be unique",
    ]);
    expect(await problems(file("empty.yaml", "hello: world\n"))).toEqual([
      'empty.yaml:1:1: expected a top-level "jobs:" list',
    ]);
    expect(await problems(file("extra.yaml", "jobs: []\njbos: []\n"))).toEqual([
      'extra.yaml:2:1: unknown top-level field "jbos"',
    ]);
    expect(await problems("/nonexistent/jobs.yaml")).toEqual([
      "--jobs /nonexistent/jobs.yaml: file not found",
    ]);
  });
});

describe("${NAME} interpolation and redaction", () => {
  it("fills values from the environment, keeps $${NAME} for the shell and redacts the values", async () => {
    const path = file(
      "jobs.yaml",
      `jobs:
  - name: greet
    schedule: "@daily"
    command:
      shell: 'echo "token=\${TOKEN} port=\${PORT} own=$\${OWN}"; echo "denied for \${TOKEN}" >&2; exit 4'
      env: { OWN: expanded-by-the-shell }
`,
    );
    const [job] = await loadJobsFile(path, { TOKEN: "tok-8d1f2e", PORT: "80" });
    const failure = await Promise.resolve(job!.run(context())).catch((error: Error) => error);
    // A 2-character value is not treated as a secret: it would redact every "80" in the output.
    expect(failure).toMatchObject({
      message: "exited with code 4: denied for [REDACTED]",
      result: {
        exit_code: 4,
        stdout: "token=[REDACTED] port=80 own=expanded-by-the-shell\n",
        stderr: "denied for [REDACTED]\n",
      },
    });
  });

  it("never echoes a secret in a problem", async () => {
    const path = file(
      "jobs.yaml",
      `jobs:
  - name: db
    schedule: "@daily"
    sql: { statement: "select 1", database_url: "\${DB_PASSWORD}@db/app" }
`,
    );
    const lines = await problems(path, { DB_PASSWORD: "hunter2-pw" });
    expect(lines).toEqual([
      'jobs.yaml:4:49: job "db": sql.database_url: expected a postgres:// or postgresql:// URL',
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
    expect(ok.job).toMatchObject({ name: "ping_api", schedule: "*/5 * * * *", source: "api" });
    for (const kind of [{ command: { shell: "rm -rf /" } }, { sql: { statement: "drop table x" } }]) {
      expect(parseHttpJobDefinition({ name: "x", schedule: "@daily", ...kind }, {})).toEqual({
        problems: ["only http jobs can be registered over HTTP"],
      });
    }
  });

  it("answers one '<field path>: <message>' line per problem", () => {
    expect(
      parseHttpJobDefinition(
        { name: "Bad Name", schedule: "* * *", http: { url: "https://x", method: "FETCH" }, colour: 1 },
        {},
      ).problems,
    ).toEqual([
      "name: expected lower-case letters, digits, _ or -, starting with a letter, at most 63 characters",
      'unknown field "colour"',
      'schedule: cron expression "* * *" has 3 fields; expected 5 (minute hour day month weekday) or 6 (with seconds first)',
      "http.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    ]);
    expect(
      parseHttpJobDefinition({ name: "x", schedule: "@daily", http: { url: "${X}" } }, {}).problems,
    ).toEqual(["http.url: environment variable X is not set"]);
    expect(parseHttpJobDefinition("nope", {}).problems).toEqual([
      "expected a mapping with name, schedule and one of http, command, sql",
    ]);
  });
});
