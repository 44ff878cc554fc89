import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneRuns } from "../../src/jobs/builtin/prune-runs.js";
import { commandHandler, commandSpec } from "../../src/kinds/command.js";
import type { Daemon } from "../../src/run/daemon.js";
import { RunOutput } from "../../src/run/output.js";
import type { OutputLine, OutputStore } from "../../src/store/output.js";
import { registerSecret } from "../../src/util/secrets.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("output");
const ADMIN = basic("ops", "correct horse battery staple");
const SECRET = "tok3n-Of-The-Output-Test";
registerSecret(SECRET);
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Daemon;
let release: () => void = () => {};

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "output-1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "correct horse battery staple",
    RUN_OUTPUT_MAX_LINES: "5",
    RUN_OUTPUT_MAX_BYTES: "200",
  });
  runner = made.runner;
  runner.registerJob({
    name: "chatty",
    schedule: "@yearly",
    run: (ctx) => {
      ctx.log.info("token is %s", SECRET);
      ctx.log.warn({ rows: 3 }, "copied");
      ctx.log.debug("line\nbreak");
    },
  });
  runner.registerJob({
    name: "script",
    schedule: "@yearly",
    run: commandHandler(
      commandSpec.parse({ shell: `echo out-1; echo err-1 >&2; printf 'out-2 ${SECRET}\\npartial'` }),
    ),
  });
  runner.registerJob({
    name: "flood",
    schedule: "@yearly",
    run: (ctx) => {
      for (let i = 1; i <= 40; i++) ctx.log.info(`line ${i}`);
    },
  });
  runner.registerJob({
    name: "wide",
    schedule: "@yearly",
    // 60-byte lines: with "info " each is 65 bytes, so three fit in 200 bytes and four do not.
    run: (ctx) => {
      for (let i = 1; i <= 4; i++) ctx.log.info(`${i}`.padEnd(60, "x"));
    },
  });
  runner.registerJob({
    name: "slow",
    schedule: "@yearly",
    run: async (ctx) => {
      for (let i = 1; i <= 4; i++) ctx.log.info(`before ${i}`);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      for (let i = 1; i <= 4; i++) ctx.log.info(`after ${i}`);
    },
  });
  await runner.start();
});
afterAll(async () => {
  release();
  await runner.stop();
});

interface Lines {
  run_id: string;
  status: string;
  lines: { seq: number; stream: string; line: string }[];
}
const logsOf = async (runId: string, query = ""): Promise<Lines> =>
  (await (await made.request(`/v1/admin/runs/${runId}/logs${query}`, { headers: ADMIN })).json()) as Lines;
const runAndWait = async (name: string, count: number) => {
  const { runId, done } = await runner.triggerJob(name);
  await done;
  return waitFor(async () => {
    const got = await logsOf(runId);
    return got.lines.length >= count ? got : undefined;
  }, 5000);
};

describe("the output of every run", () => {
  it("keeps ctx.log lines with the run, redacted, one line each, over GET /v1/admin/runs/:id/logs", async () => {
    const got = await runAndWait("chatty", 3);
    expect(got.lines.map((l) => [l.stream, l.line])).toEqual([
      ["log", "info token is [REDACTED]"],
      ["log", 'warn copied {"rows":3}'],
      ["log", "debug line | break"],
    ]);
    expect(JSON.stringify(got)).not.toContain(SECRET);
  });

  it("keeps a command's stdout and stderr lines, its unterminated last line too, redacted", async () => {
    const got = await runAndWait("script", 4);
    const byStream = (s: string) => got.lines.filter((l) => l.stream === s).map((l) => l.line);
    expect(byStream("stdout")).toEqual(["out-1", "out-2 [REDACTED]", "partial"]);
    expect(byStream("stderr")).toEqual(["err-1"]);
  });

  it("keeps only the last RUN_OUTPUT_MAX_LINES lines", async () => {
    const got = await runAndWait("flood", 5);
    expect(got.lines.map((l) => [l.seq, l.line])).toEqual(
      [36, 37, 38, 39, 40].map((i) => [i, `info line ${i}`]),
    );
  });

  it("keeps only the last lines within RUN_OUTPUT_MAX_BYTES", async () => {
    const got = await runAndWait("wide", 3);
    expect(got.lines.map((l) => l.seq)).toEqual([2, 3, 4]);
  });

  it("trims lines already written when more come, and streams a running run's lines", async () => {
    const { runId, done } = await runner.triggerJob("slow");
    const early = await waitFor(async () => {
      const got = await logsOf(runId);
      return got.lines.length === 4 ? got : undefined;
    }, 5000);
    expect(early.status).toBe("running");
    release();
    await done;
    const late = await waitFor(async () => {
      const got = await logsOf(runId);
      return got.lines.at(-1)?.line === "info after 4" ? got : undefined;
    }, 5000);
    expect(late.lines.map((l) => l.line)).toEqual([
      "info before 4",
      "info after 1",
      "info after 2",
      "info after 3",
      "info after 4",
    ]);
    // ?after= returns only the newer lines: how a client follows.
    expect((await logsOf(runId, "?after=7")).lines.map((l) => l.seq)).toEqual([8]);
  });

  it("GET /v1/admin/runs/:id answers the run; bad ids are 400, unknown 404, no credentials 401", async () => {
    const { runId, done } = await runner.triggerJob("chatty");
    await done;
    const res = await made.request(`/v1/admin/runs/${runId}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { run: unknown }).run).toMatchObject({
      id: runId,
      job_name: "chatty",
      status: "succeeded",
    });
    expect((await made.request("/v1/admin/runs/1x", { headers: ADMIN })).status).toBe(400);
    expect((await made.request("/v1/admin/runs/0/logs", { headers: ADMIN })).status).toBe(400);
    expect((await made.request("/v1/admin/runs/99999999/logs", { headers: ADMIN })).status).toBe(404);
    expect((await made.request(`/v1/admin/runs/${runId}/logs`)).status).toBe(401);
    expect((await made.request(`/v1/admin/runs/${runId}/logs?limit=0`, { headers: ADMIN })).status).toBe(400);
  });

  it("is pruned with its run", async () => {
    const got = await runAndWait("chatty", 3);
    await pruneRuns(db.sql, 0, new AbortController().signal);
    const rows = await db.sql`select 1 from job_run_output where run_id = ${got.run_id}`;
    expect(rows.count).toBe(0);
  });
});

describe("the output writer", () => {
  it("writes a burst of lines from many runs in one statement, not one per line", async () => {
    const calls: number[] = [];
    const store = {
      append: async (lines: readonly OutputLine[]) => void calls.push(lines.length),
    } as unknown as OutputStore;
    const output = new RunOutput(store, { maxLines: 1000, maxBytes: 262_144 }, made.runner.log);
    for (let run = 1; run <= 10; run++)
      for (let i = 0; i < 100; i++) output.write(String(run), "log", `l${i}`);
    await output.flush();
    expect(calls).toEqual([1000]);
  });

  it("drops the lines of a handler left behind after its run was over", async () => {
    const written: string[] = [];
    const store = {
      append: async (lines: readonly OutputLine[]) => void written.push(...lines.map((l) => l.line)),
    } as unknown as OutputStore;
    const output = new RunOutput(store, { maxLines: 1000, maxBytes: 262_144 }, made.runner.log);
    output.write("7", "log", "in time");
    await output.end("7");
    output.write("7", "log", "too late");
    await output.flush();
    expect(written).toEqual(["in time"]);
  });
});
