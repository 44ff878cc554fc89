import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { parseCodeJob } from "../../src/jobs/schema.js";
import { CONTRACT_VARIABLES } from "../helpers/contract.js";
import { runCli } from "../helpers/process.js";

const VARIABLES = CONTRACT_VARIABLES;

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
const env = fc.dictionary(fc.constantFrom(...VARIABLES), value);
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
        try {
          const config = loadConfig(environment, flag);
          expect(config.intervalSeconds).toBeGreaterThanOrEqual(1);
          expect(config.intervalSeconds).toBeLessThanOrEqual(3600);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expectNamedLines((error as ConfigError).problems);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a secret value never appears in a problem", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 6 }).filter((s) => /^[a-zA-Z0-9]+$/.test(s)),
        (secret) => {
          try {
            loadConfig({
              DATABASE_URL: `mysql://u:${secret}@h/db`,
              ADMIN_BASIC_PASSWORD: " ",
              INTERNAL_SECRET: " ",
            });
          } catch (error) {
            expect((error as ConfigError).problems.join("\n")).not.toContain(secret);
          }
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
  it("runner check", async () => {
    const samples = fc.sample(env, { numRuns: 12, seed: 42 });
    for (const environment of samples) {
      const result = await runCli(["check"], environment);
      expect([0, 2]).toContain(result.code);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      if (result.code === 2) {
        for (const line of result.stderr.trim().split("\n")) expect(line).toMatch(/^runner: /);
      }
    }
  }, 60_000);
});
