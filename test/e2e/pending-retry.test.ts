import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/run/daemon.js";
import type { JobInput } from "../../src/types.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { runCli } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("pending");
const ADMIN = basic("ops", "pending retries");
const SECRET = "internal-secret-pending";
/** The CLI without --jobs: it knows the daemon's jobs from the catalog it publishes. */
const cliEnv = { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, JOB_RUNNER_ID: "cli" };
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let runner: Daemon;
/** Each job's failed first run, whose retry waits an hour. */
const failed: Record<string, { id: string; dueAt: string }> = {};

/** A job whose every attempt fails; its one retry is due an hour after the first failure. */
const failing = (name: string, overlap: "skip" | "allow"): JobInput => ({
  name,
  schedule: "@yearly",
  overlap,
  retries: { attempts: 2, backoff: "fixed", initial: "1h" },
  run: () => {
    throw new Error("upstream 503");
  },
});

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    JOB_RUNNER_ID: "daemon-1",
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "pending retries",
    INTERNAL_SECRET: SECRET,
  });
  runner = made.runner;
  runner.registerJob(failing("nightly", "skip"));
  runner.registerJob(failing("parallel", "allow"));
  await runner.start();
  for (const name of ["nightly", "parallel"]) {
    const { runId } = await runner.triggerJob(name);
    const row = await waitFor(
      async () => (await db.sql`select run_after from job_retries where retry_of = ${runId}`)[0],
      10_000,
      `the retry of ${name}`,
    );
    failed[name] = { id: runId, dueAt: (row.run_after as Date).toISOString() };
  }
});
afterAll(async () => {
  await runner.stop();
});

const trigger = (name: string) =>
  made.request(`/v1/jobs/${name}/trigger`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-internal-secret": SECRET },
  });

const runCount = async (name: string) =>
  (await db.sql`select count(*)::int as n from job_runs where job_name = ${name}`)[0]!.n as number;

describe("a pending retry (real processes for the CLI)", { timeout: 60_000 }, () => {
  it("POST trigger of an overlap skip job answers 409 naming the retry; an overlap allow job still runs", async () => {
    const before = await runCount("nightly");
    const refused = await trigger("nightly");
    expect(refused.status).toBe(409);
    const { id, dueAt } = failed.nightly!;
    expect(await refused.json()).toEqual({
      error: `job "nightly" has a retry pending (attempt 2, due ${dueAt}, retrying run ${id}) and its overlap is skip; trigger it after that retry has run`,
    });
    expect(await runCount("nightly")).toBe(before);
    expect((await trigger("parallel")).status).toBe(202);
  });

  it("`runner trigger` of an overlap skip job exits 2 with one line naming the retry, and queues nothing", async () => {
    const refused = await runCli(["trigger", "nightly"], cliEnv);
    expect(refused.code).toBe(2);
    const { id, dueAt } = failed.nightly!;
    expect(refused.stderr.trim().split("\n")).toEqual([
      `runner: job "nightly" has a retry pending (attempt 2, due ${dueAt}, retrying run ${id}) and its overlap is skip; trigger it after that retry has run`,
    ]);
    expect(refused.stdout).toBe("");
    const [queued] = await db.sql`select count(*)::int as n from job_triggers where job_name = 'nightly'`;
    expect(queued!.n).toBe(0);
    const allowed = await runCli(["trigger", "parallel"], cliEnv);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^trigger \d+ for parallel queued/);
  });

  it("status shows the retry with its due time, not as a running run (admin API, table and JSON)", async () => {
    const { id, dueAt } = failed.nightly!;
    const expected = {
      retry_of: id,
      attempt: 2,
      due_at: dueAt,
      scheduled_for: null,
      scheduled_by: "daemon-1",
      count: 1,
    };
    const res = await made.request("/v1/admin/jobs/status", { headers: ADMIN });
    const { jobs } = (await res.json()) as { jobs: Record<string, unknown>[] };
    expect(jobs.find((j) => j.name === "nightly")).toMatchObject({ running: 0, pending_retry: expected });
    expect(jobs.find((j) => j.name === "jobs-runner")).toMatchObject({ pending_retry: null });

    const json = JSON.parse((await runCli(["status", "--json"], cliEnv)).stdout) as {
      jobs: Record<string, unknown>[];
    };
    expect(json.jobs.find((j) => j.name === "nightly")).toMatchObject({
      running: 0,
      pending_retry: expected,
    });
    const text = (await runCli(["status"], cliEnv)).stdout.split("\n");
    expect(text[0]).toMatch(/\bFAILURES\s+NEXT RETRY\s+NEXT RUN\b/);
    expect(text.find((line) => line.startsWith("nightly"))).toMatch(
      new RegExp(`\\s1\\s+attempt 2 due ${dueAt.replace(/\./g, "\\.")}\\s+\\S+\\s`),
    );
  });

  it("history lists the retry first as pending, with its due time and the run it retries (CLI and admin API)", async () => {
    const { id, dueAt } = failed.nightly!;
    const lines = (await runCli(["history", "nightly"], cliEnv)).stdout.split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+TRIGGER\s+ATTEMPT/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^-\\s+pending retry\\s+retry\\s+2\\s+-\\s+due ${dueAt.replace(/\./g, "\\.")}\\s+-\\s+daemon-1\\s+retries run ${id}$`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^${id}\\s+failed\\s+manual\\s+1\\s`));

    const json = JSON.parse((await runCli(["history", "nightly", "--json"], cliEnv)).stdout) as Record<
      string,
      unknown
    >;
    const pending = [
      { retry_of: id, attempt: 2, due_at: dueAt, scheduled_for: null, scheduled_by: "daemon-1" },
    ];
    expect(json).toMatchObject({ runs: [{ id, status: "failed", attempt: 1 }], pending_retries: pending });
    const res = await made.request("/v1/admin/jobs/nightly/runs", { headers: ADMIN });
    expect(await res.json()).toMatchObject({
      job_name: "nightly",
      runs: [{ id, status: "failed" }],
      pending_retries: pending,
    });
  });
});
