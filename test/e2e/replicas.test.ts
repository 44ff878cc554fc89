import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("chaos");
const ledgerDir = mkdtempSync(join(tmpdir(), "runner-ledger-"));
const ledger = join(ledgerDir, "handler-starts.log");

// Every handler start is appended to a ledger file by the process that runs it: the proof that no
// slot ran twice does not rely on the database's own unique key.
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
const start = (ctx) => appendFileSync(${JSON.stringify(ledger)}, ctx.jobName + " " + ctx.scheduledFor?.toISOString() + " " + process.pid + "\\n");
const sleep = (ms, signal) => new Promise((resolve) => { const t = setTimeout(resolve, ms); signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }); });
const common = { schedule: "* * * * * *", catchUp: "all", misfireGraceSeconds: 60 };
export default [
  { ...common, name: "fast", run: async (ctx) => { start(ctx); await sleep(50, ctx.signal); } },
  { ...common, name: "medium", run: async (ctx) => { start(ctx); await sleep(400, ctx.signal); } },
  { ...common, name: "slow", run: async (ctx) => { start(ctx); await sleep(1500, ctx.signal); } },
];`);

const env = (id: string) => ({
  DATABASE_URL: db.url,
  DATABASE_SCHEMA: db.schema,
  JOB_RUNNER_ID: id,
  RUN_RETENTION_DAYS: "0",
  SHUTDOWN_GRACE_SECONDS: "2",
  LOG_LEVEL: "warn",
});
const spawnReplica = (id: string) => new RunnerProcess(["--interval", "1", "--jobs", jobs], env(id));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("three replicas, one of them killed and restarted again and again", () => {
  it("runs every slot exactly once", async () => {
    const replicas = new Map([
      ["r1", spawnReplica("r1")],
      ["r2", spawnReplica("r2")],
      ["r3", spawnReplica("r3")],
    ]);
    // The window opens once all three are up (each has written its first heartbeat), however long
    // starting takes on a busy machine: slots before any replica existed are never caught up.
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_runners where runner_id in ('r1', 'r2', 'r3') and stopped_at is null`)
          .length === 3,
      60_000,
      "the three replicas' first heartbeats",
    );
    const windowStart = Date.now();
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const victim = `r${(round % 3) + 1}`;
      replicas.get(victim)!.child.kill("SIGKILL");
      await replicas.get(victim)!.exited;
      kills++;
      await sleep(1500);
      replicas.set(victim, spawnReplica(victim));
      await sleep(2500);
    }
    const windowEnd = Date.now() - 2000;
    // No kills in the last stretch: the survivors reap every abandoned run (lease 5 s).
    await sleep(8000);
    for (const r of replicas.values()) r.child.kill("SIGTERM");
    await Promise.all([...replicas.values()].map((r) => r.exited));

    const from = new Date(Math.ceil(windowStart / 1000) * 1000);
    const to = new Date(Math.floor(windowEnd / 1000) * 1000);
    const perSlot = await db.sql<{ job_name: string; scheduled_for: Date; statuses: string[] }[]>`
      select job_name, scheduled_for, array_agg(status order by attempt) as statuses
      from job_runs where scheduled_for between ${from} and ${to} group by 1, 2`;
    const expectedSlots = ((to.getTime() - from.getTime()) / 1000 + 1) * 3;
    const byStatus = await db.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from job_runs where scheduled_for between ${from} and ${to} group by 1 order by 1`;
    const starts = readFileSync(ledger, "utf8").trim().split("\n");
    const startsPerSlot = new Map<string, number>();
    for (const line of starts) {
      const [job, slot] = line.split(" ");
      startsPerSlot.set(`${job} ${slot}`, (startsPerSlot.get(`${job} ${slot}`) ?? 0) + 1);
    }
    const twice = [...startsPerSlot].filter(([, n]) => n > 1);
    console.log(
      `chaos: ${kills} SIGKILLs, window ${from.toISOString()}..${to.toISOString()}, ${expectedSlots} slots expected, ` +
        `${perSlot.length} recorded; by status ${JSON.stringify(byStatus)}; ${starts.length} handler starts, ${twice.length} slots started twice`,
    );
    expect(twice).toEqual([]);
    expect(perSlot).toHaveLength(expectedSlots);
    for (const slot of perSlot) {
      expect(slot.statuses.length).toBe(1);
      expect(["succeeded", "skipped", "abandoned"]).toContain(slot.statuses[0]);
    }
    expect(byStatus.find((s) => s.status === "running")).toBeUndefined();
  }, 150_000);
});
