import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { defineJob, parseCodeJob } from "../../src/jobs/schema.js";
import { loadJobsModule, Registry } from "../../src/jobs/registry.js";
import { job } from "../helpers/jobs.js";

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function moduleFile(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-jobs-"));
  const path = join(dir, "jobs.mjs");
  writeFileSync(path, source);
  return path;
}

describe("job validation", () => {
  it("applies defaults", () => {
    const parsed = parseCodeJob(
      defineJob({ name: "nightly", schedule: "0 3 * * *", run: () => {} }),
      "x",
      "code",
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.job).toMatchObject({
      timezone: "UTC",
      timeoutMs: 3_600_000,
      retries: { attempts: 1 },
      overlap: "skip",
      catchUp: "latest",
      misfireGraceSeconds: 3600,
      enabled: true,
    });
  });

  it("converts durations and retry options", () => {
    const parsed = parseCodeJob(
      {
        name: "j",
        schedule: "* * * * *",
        timeout: "10m",
        retries: { attempts: 3, backoff: "exponential", initial: "30s" },
        run: () => {},
      },
      "x",
      "code",
    );
    expect(parsed.job?.timeoutMs).toBe(600_000);
    expect(parsed.job?.retries).toEqual({
      attempts: 3,
      backoff: "exponential",
      initialMs: 30_000,
      maxMs: 3_600_000,
    });
  });

  it("names the job and field of every problem", () => {
    const parsed = parseCodeJob(
      { name: "Bad Name", schedule: "61 * * * *", timeout: "soon", overlap: "queue", run: 42 },
      "jobs.mjs: job[0]",
      "x",
    );
    expect(parsed.job).toBeUndefined();
    const text = parsed.problems.join("\n");
    expect(text).toContain('jobs.mjs: job[0] "Bad Name": name: expected lower-case letters');
    expect(text).toContain('timeout: expected a duration such as "30s"');
    expect(text).toContain("overlap:");
    expect(text).toContain("run: expected a function");
  });

  it("names a bad cron expression and a bad time zone", () => {
    expect(parseCodeJob({ name: "a", schedule: "61 * * * *", run: () => {} }, "here", "x").problems).toEqual([
      'here "a": schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
    ]);
    expect(
      parseCodeJob({ name: "a", schedule: "* * * * *", timezone: "Nowhere/City", run: () => {} }, "here", "x")
        .problems[0],
    ).toMatch(/^here "a": timezone: unknown time zone "Nowhere\/City"/);
  });

  it("reserves jobs-runner, the loop's heartbeat row", () => {
    expect(
      parseCodeJob({ name: "jobs-runner", schedule: "@daily", run: () => {} }, "here", "x").problems,
    ).toEqual([`here "jobs-runner": name: "jobs-runner" is reserved for the loop's heartbeat`]);
  });

  it("rejects unknown options (a typo is not silently ignored)", () => {
    expect(
      parseCodeJob({ name: "a", schedule: "* * * * *", timout: "5m", run: () => {} }, "here", "x")
        .problems[0],
    ).toMatch(/timout/);
  });
});

describe("Registry", () => {
  it("refuses duplicate names, naming both sources", () => {
    const registry = new Registry();
    registry.add(job({ name: "a" }));
    expect(() => registry.add({ ...job({ name: "a" }), source: "other.mjs" })).toThrow(
      'job "a" is defined twice (test and other.mjs)',
    );
  });

  it("lists the known jobs when asked for an unknown one", () => {
    const registry = new Registry();
    registry.add(job({ name: "beta" }));
    registry.add(job({ name: "alpha" }));
    expect(() => registry.require("gamma")).toThrow('unknown job "gamma"; known jobs: alpha, beta');
    // A near miss names the job meant, as an unknown command does.
    expect(() => registry.require("alpah")).toThrow(
      'unknown job "alpah" (did you mean "alpha"?); known jobs: alpha, beta',
    );
  });
});

describe("loadJobsModule", () => {
  it("loads plain objects from a module outside the project", async () => {
    const path = moduleFile(`export default [{ name: "hello", schedule: "@daily", run: async () => "hi" }];`);
    const jobs = await loadJobsModule(path);
    expect(jobs.map((j) => [j.name, j.schedule, j.source])).toEqual([["hello", "@daily", path]]);
  });

  it("collects the problems of every job in the module", async () => {
    const path = moduleFile(`export default [
      { name: "ok", schedule: "* * * * *", run() {} },
      { name: "bad-cron", schedule: "* * 32 * *", run() {} },
      { name: "no-run", schedule: "* * * * *" },
    ];`);
    const lines = await problemsOf(loadJobsModule(path));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/job\[1\] "bad-cron": schedule: invalid cron expression/);
    expect(lines[1]).toMatch(/job\[2\] "no-run": run: /);
  });

  it("names a missing file and a module without jobs", async () => {
    expect(await problemsOf(loadJobsModule("/nonexistent/jobs.mjs"))).toEqual([
      "--jobs /nonexistent/jobs.mjs: file not found",
    ]);
    const path = moduleFile("export const x = 1;");
    expect(await problemsOf(loadJobsModule(path))).toEqual([
      `--jobs ${path}: expected a default export that is an array of jobs`,
    ]);
  });
});
