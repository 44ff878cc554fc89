import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig, Runner } from "../src/index.js";
import { testDatabase } from "./helpers/db.js";

const db = await testDatabase("api");
const dist = resolve(import.meta.dirname, "../dist");

describe("the public in-process API", () => {
  it("runs README's example: register, start, trigger, read the result, list, cancel, stop", async () => {
    const config = loadConfig({ JOB_RUNNER_ID: "api-test", DATABASE_SCHEMA: db.schema });
    const runner = new Runner({ config, sql: db.sql, log: pino({ level: "silent" }) });
    runner.registerJob("report", "*/5 * * * *", async (ctx) => ({ params: ctx.params }));
    await runner.start();
    expect(runner.state).toBe("running");
    const { runId, done } = await runner.triggerJob("report", { region: "eu" });
    expect((await done).status).toBe("succeeded");
    const last = await runner.getLastExecutionResult("report");
    expect(last).toMatchObject({ id: runId, status: "succeeded", result: { params: { region: "eu" } } });
    const [view] = runner.listScheduledJobs().filter((job) => job.name === "report");
    expect(view).toMatchObject({ name: "report", schedule: "*/5 * * * *", timezone: "UTC", retries: 0 });
    expect(Date.parse(view!.next_run_at!)).toBeGreaterThan(Date.now());
    expect(runner.cancelJob("report")).toBe(true);
    expect(runner.listScheduledJobs().map((job) => job.name)).not.toContain("report");
    await runner.stop();
    await runner.stop();
    expect(runner.state).toBe("stopped");
  });

  it("publishes only the public API in the package's declarations", () => {
    // `npm test` builds first (pretest), so dist/ is this source's.
    const index = readFileSync(resolve(dist, "index.d.ts"), "utf8");
    const exported = [...index.matchAll(/export (?:type )?\{([^}]+)\}/g)]
      .flatMap((m) => m[1]!.split(","))
      .map((name) => name.trim().replace(/^type /, ""))
      .filter(Boolean)
      .sort();
    expect(exported).toEqual(
      [
        "CatchUpPolicy",
        "Config",
        "ConfigError",
        "Job",
        "JobContext",
        "JobHandler",
        "JobInput",
        "OverlapPolicy",
        "RunOutcome",
        "RunRow",
        "RunStatus",
        "RunTrigger",
        "Runner",
        "RunnerOptions",
        "ScheduledJobView",
        "defineJob",
        "loadConfig",
      ].sort(),
    );
    const runner = readFileSync(resolve(dist, "runner.d.ts"), "utf8");
    const body = runner.slice(runner.indexOf("export declare class Runner"));
    const members = [...body.matchAll(/^ {4}(?:get |readonly )?(#?\w+)/gm)].map((m) => m[1]);
    expect(members.sort()).toEqual(
      [
        "#private",
        "cancelJob",
        "constructor",
        "getLastExecutionResult",
        "listScheduledJobs",
        "registerJob",
        "start",
        "state",
        "stop",
        "triggerJob",
      ].sort(),
    );
  });
});
