import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { type EmbeddedDatabase, startEmbedded } from "../../src/store/embedded.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

// A throwaway PostgreSQL of this test's own, on its own port and directory, that the test stops
// and starts while a real runner process keeps going.
const dir = mkdtempSync(join(tmpdir(), "runner-outage-"));
chmodSync(dir, 0o755);
let server: EmbeddedDatabase = await startEmbedded(dir, () => {}, { tcp: true });
const url = server.url;
const port = Number(new URL(url).port);
afterAll(async () => {
  await server.stop();
});

const ledger = join(dir, "ledger.log");
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
const mark = (ctx, what) => appendFileSync(${JSON.stringify(ledger)}, ctx.jobName + " " + (ctx.scheduledFor?.toISOString() ?? ctx.runId) + " " + what + "\\n");
export default [
  { name: "tick", schedule: "* * * * * *", catchUp: "all", misfireGraceSeconds: 60, run: (ctx) => mark(ctx, "start") },
  { name: "long", schedule: "@yearly", run: async (ctx) => { mark(ctx, "start"); await new Promise((r) => setTimeout(r, 2500)); mark(ctx, "end"); return "done during the outage"; } },
];`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the database goes away and comes back", () => {
  it("keeps the daemon up, records outcomes once it returns, catches up, and never runs a slot twice", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      DATABASE_URL: url,
      JOB_RUNNER_ID: "survivor",
      RUN_RETENTION_DAYS: "0",
    });
    await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === "tick");
    const httpPort = Number(
      (await daemon.waitForLog((l) => String(l.msg).startsWith("http sidecar listening"))).port,
    );
    const get = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`);
    const up = async () => /^job_runner_up (\d)$/m.exec(await (await get("/metrics")).text())?.[1];
    expect((await get("/readyz")).status).toBe(200);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`insert into job_triggers (job_name, requested_by) values ('long', 'test')`;
    await sql.end();
    const longStarted = await daemon.waitForLog((l) => l.msg === "run started" && l.job_name === "long");

    await server.stop();
    const downAt = Date.now();
    // While it is down: not ready, with the database's reason; alive; and not "up" once a loop failed.
    const ready = await waitFor(async () => {
      const res = await get("/readyz");
      return res.status === 503
        ? ((await res.json()) as { checks: { name: string; status: string; error?: string }[] })
        : undefined;
    }, 3000);
    expect(ready.checks.find((c) => c.name === "database")).toMatchObject({
      status: "fail",
      error: expect.any(String),
    });
    expect((await get("/livez")).status).toBe(200);
    await waitFor(async () => (await up()) === "0", 3000);
    await sleep(Math.max(0, 6000 - (Date.now() - downAt)));
    expect(daemon.child.exitCode).toBeNull();
    const restartAt = Date.now();
    server = await startEmbedded(dir, () => {}, { port, tcp: true });
    const upAt = Date.now();
    // Back: ready and up again on its own, within a loop or two (measured here: about 1.1 s with a
    // 1 s loop; before the driver's reconnect backoff was capped it took 10-15 s).
    const backAt = await waitFor(
      async () => ((await get("/readyz")).status === 200 && (await up()) === "1" ? Date.now() : 0),
      10_000,
    );
    console.log(`outage: ready and up again ${backAt - upAt} ms after the server was back`);

    // Back within a few loops: a tick that started after the restart finished.
    await daemon.waitForLog(
      (l) => l.msg === "run finished" && l.job_name === "tick" && Date.parse(String(l.time)) > upAt + 1000,
      20_000,
    );
    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // Its outcome was kept in memory and written once the database answered again.
      const long = await waitFor(async () => {
        const [row] =
          await check`select status, result from job_runs where id = ${String(longStarted.run_id)}`;
        return row!.status === "running" ? undefined : row;
      }, 15_000);
      expect(long).toEqual({ status: "succeeded", result: "done during the outage" });
      // catchUp "all": every second of the outage has its run, as catch-up, once the database is back.
      const from = Math.ceil((downAt + 1000) / 1000) * 1000;
      const to = Math.floor((restartAt - 1000) / 1000) * 1000;
      const outage = await waitFor(async () => {
        const rows = await check`select scheduled_for, trigger from job_runs
          where job_name = 'tick' and scheduled_for between ${new Date(from)} and ${new Date(to)} order by scheduled_for`;
        return rows.length === (to - from) / 1000 + 1 ? rows : undefined;
      }, 15_000);
      // Slots whose claim was already on its way when the server died are claimed late, when it
      // returns, as the schedule fires they are; the others were remembered and caught up.
      expect(outage.filter((row) => row.trigger === "catch-up").length).toBeGreaterThanOrEqual(
        outage.length - 3,
      );
      const [running] =
        await check`select count(*)::int as n from job_runs where status = 'running' and job_name = 'long'`;
      expect(running!.n).toBe(0);
    } finally {
      await check.end();
    }
    const starts = readFileSync(ledger, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.endsWith(" start"));
    expect(new Set(starts).size).toBe(starts.length);
    const warnings = daemon
      .logs()
      .filter((l) => l.level === "warn")
      .map((l) => String(l.msg));
    expect(warnings.some((m) => m.startsWith("claiming slots failed"))).toBe(true);

    daemon.child.kill("SIGTERM");
    expect((await daemon.exited).code).toBe(0);
  }, 90_000);
});
