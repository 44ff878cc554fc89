import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type Config, loadConfig, VARIABLES, type VariableName, type Variable } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { parseCodeJob } from "../../src/jobs/schema.js";
import { childEnv, runCli } from "../helpers/process.js";

/** Every variable of the table in src/config.ts. */
const NAMES = Object.keys(VARIABLES) as VariableName[];
const variable = (name: string): Variable | undefined => VARIABLES[name as VariableName];

/** Values people actually type, and some they should not. */
const value = fc.oneof(
  fc.string(),
  fc.integer({ min: -100_000, max: 100_000 }).map(String),
  fc.constantFrom(
    "true",
    "false",
    "yes",
    "0",
    "production",
    "pretty",
    "debug",
    "postgres://u:pw@h/db",
    "http://x",
    "1e3",
    " 60 ",
    "",
  ),
  fc.webUrl(),
);
const env = fc.dictionary(fc.constantFrom(...NAMES), value);
const flags = fc.record({ interval: fc.option(value, { nil: undefined }) });

/** Every problem is one line that names what is wrong. */
function expectNamedLines(problems: string[]) {
  expect(problems.length).toBeGreaterThan(0);
  for (const line of problems) {
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^([A-Z_]+|--interval|where\[\d+\]( ".*")?): /);
  }
}

describe("property: any environment either loads or fails with named one-line problems", () => {
  it("loadConfig never throws anything but a ConfigError", () => {
    fc.assert(
      fc.property(env, flags, (environment, flag) => {
        let config: Config;
        try {
          config = loadConfig(environment, flag);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const problems = (error as ConfigError).problems;
          expectNamedLines(problems);
          // Each line names a variable that was set (or the flag); it echoes the value unless secret.
          for (const line of problems) {
            const name = line.slice(0, line.indexOf(": "));
            if (name === "--interval") continue;
            const raw = environment[name];
            expect(raw, line).toBeDefined();
            expect(line.endsWith(` (got ${JSON.stringify(raw)})`), line).toBe(!variable(name)!.secret);
          }
          return;
        }
        expect(config.intervalSeconds).toBeGreaterThanOrEqual(1);
        expect(config.intervalSeconds).toBeLessThanOrEqual(3600);
        // JOBS_FILE is only split here: loading the files is the registry's business.
        for (const path of config.jobsFiles) {
          expect(path).toBe(path.trim());
          expect(path).not.toMatch(/^$|,/);
          expect(environment.JOBS_FILE).toContain(path);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a secret value never appears in a problem", () => {
    const secrets = NAMES.filter((name) => variable(name)!.secret);
    fc.assert(
      fc.property(
        fc.string({ minLength: 6 }).filter((s) => /^[a-zA-Z0-9]+$/.test(s)),
        (secret) => {
          const bad = `mysql://u:${secret}@h/db`;
          const rejected = secrets.filter((name) => !variable(name)!.schema.safeParse(bad).success);
          expect(rejected.length).toBeGreaterThan(0);
          let problems: string[] = [];
          try {
            loadConfig(Object.fromEntries(secrets.map((name) => [name, bad])));
          } catch (error) {
            problems = (error as ConfigError).problems;
          }
          expect(problems.map((line) => line.slice(0, line.indexOf(":")))).toEqual(rejected);
          expect(problems.join("\n")).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const jobInput = fc.record(
  {
    name: fc.oneof(fc.string(), fc.constantFrom("ok_job", "a", "Bad", "x".repeat(70))),
    schedule: fc.oneof(
      fc.string(),
      fc.constantFrom("* * * * *", "@daily", "61 * * * *", "*/0 * * * *", "0 0 31 2 *", "* * * * * * *"),
    ),
    timezone: fc.oneof(fc.string(), fc.constantFrom("UTC", "Europe/Berlin", "Mars/Base")),
    timeout: fc.oneof(fc.string(), fc.integer(), fc.constantFrom("30s", "10m", "-1s")),
    retries: fc.oneof(
      fc.integer(),
      fc.record({ attempts: fc.integer(), initial: fc.string() }, { requiredKeys: [] }),
    ),
    overlap: fc.oneof(fc.string(), fc.constantFrom("skip", "allow")),
    catchUp: fc.oneof(fc.string(), fc.constantFrom("none", "latest", "all")),
    misfireGraceSeconds: fc.oneof(fc.integer(), fc.double()),
    run: fc.constantFrom(() => undefined, "not a function", undefined),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe("property: any job options either validate or name the job and the field", () => {
  it("parseCodeJob returns a job or one-line problems, never throws", () => {
    fc.assert(
      fc.property(jobInput, (input) => {
        const result = parseCodeJob(input, "where[0]", "test");
        if (result.job) {
          expect(result.problems).toEqual([]);
          expect(result.job.name).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
        } else {
          expectNamedLines(result.problems);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("property: the CLI answers any environment with exit 0 or 2 and no stack trace", () => {
  /** JOBS_FILE names only these files: a random one could load whatever the working tree holds. */
  const dir = mkdtempSync(join(tmpdir(), "runner-fuzz-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = {
    module: join(dir, "jobs.mjs"),
    yaml: join(dir, "jobs.yaml"),
    broken: join(dir, "broken.yaml"),
    missing: join(dir, "missing.yaml"),
    unknown: join(dir, "notes.txt"),
  };
  writeFileSync(files.module, `export default [{ name: "fuzz_module", schedule: "@daily", run() {} }];`);
  writeFileSync(
    files.yaml,
    `jobs:\n  - name: fuzz_file\n    schedule: "@daily"\n    command: { shell: "true" }\n`,
  );
  writeFileSync(files.broken, "jobs: [ { name: Bad\n");
  writeFileSync(files.unknown, "not jobs");
  const good: Record<string, string> = { [files.module]: "fuzz_module", [files.yaml]: "fuzz_file" };
  const jobsFile = fc.oneof(
    fc.array(fc.constantFrom(...Object.values(files)), { maxLength: 3 }).map((paths) => paths.join(", ")),
    fc.constantFrom("", " , "),
  );
  const withJobsFile = (base: fc.Arbitrary<Record<string, string>>) =>
    fc.tuple(base, fc.option(jobsFile, { nil: undefined })).map(([environment, paths]) => {
      const { JOBS_FILE: _, ...rest } = environment;
      return paths === undefined ? rest : { ...rest, JOBS_FILE: paths };
    });

  /** 0 when the configuration loads and every jobs file is a good one named once; else 2. */
  function expected(environment: Record<string, string>): { code: number; jobs: string[] } {
    let paths: string[];
    try {
      paths = loadConfig(childEnv(environment)).jobsFiles;
    } catch {
      return { code: 2, jobs: [] };
    }
    const ok = paths.every((path) => path in good) && new Set(paths).size === paths.length;
    return ok ? { code: 0, jobs: paths.map((path) => good[path]!) } : { code: 2, jobs: [] };
  }

  it("runner check", async () => {
    // Random environments mostly fail on a variable; then each kind of jobs file on its own.
    const { module, yaml, broken, missing, unknown } = files;
    const samples = [
      ...fc.sample(withJobsFile(env), { numRuns: 12, seed: 42 }),
      ...[
        module,
        ` ${yaml} `,
        `${module},${yaml}`,
        `${module}, ${module}`,
        `${yaml}, ${broken}`,
        missing,
        unknown,
        " , ",
      ].map((paths) => ({ JOBS_FILE: paths })),
    ];
    const codes = new Set<number>();
    for (const environment of samples) {
      const result = await runCli(["check"], environment);
      const want = expected(environment);
      expect(result.code, JSON.stringify({ environment, stderr: result.stderr })).toBe(want.code);
      codes.add(want.code);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      if (result.code === 2) {
        for (const line of result.stderr.trim().split("\n")) expect(line).toMatch(/^runner: /);
      }
      for (const job of want.jobs) expect(result.stdout).toContain(job);
    }
    expect([...codes].sort()).toEqual([0, 2]);
  }, 120_000);
});
