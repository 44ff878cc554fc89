import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";
import { throwawayPostgres } from "../helpers/throwaway-postgres.js";

// Item 14: after a database outage, (a) a run that finished during it is recorded before the
// missed slots are claimed, so its job's catch-up is not taken for an overlap and `skipped`; and
// (b) with catchUp "latest" the newest missed slot runs once, as README promises, even though
// newer slots ran on time before the loop settled it. Several outages, of different lengths, in
// both stop modes.
const server = await throwawayPostgres();
const jobs = jobsModule(`
import { appendFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
const here = dirname(new URL(import.meta.url).pathname);
const mark = (ctx) => appendFileSync(join(here, "starts.log"), ctx.jobName + " " + ctx.scheduledFor?.toISOString() + "\\n");
export default [
  { name: "tick", schedule: "* * * * * *", catchUp: "latest", overlap: "allow", misfireGraceSeconds: 60, run: mark },
  { name: "slow", schedule: "* * * * * *", catchUp: "latest", misfireGraceSeconds: 60,
    run: async (ctx) => { mark(ctx); if (existsSync(join(here, "slow"))) await new Promise((r) => setTimeout(r, 2500)); return "done"; } },
];`);
const here = dirname(jobs);
const sql = postgres(server.url, { max: 1, onnotice: () => {} });
afterAll(() => sql.end({ timeout: 1 }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const outages = [
  { ms: 3000, mode: "fast" },
  { ms: 6000, mode: "immediate" },
  { ms: 4000, mode: "immediate" },
  { ms: 8000, mode: "fast" },
] as const;

interface Row {
  id: string;
  scheduled_for: Date;
  trigger: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
}

describe("catch-up after database outages", () => {
  it("records outcomes first, then runs each job's newest missed slot once", async () => {
    const daemon = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      DATABASE_URL: server.url,
      JOB_RUNNER_ID: "survivor",
      RUN_RETENTION_DAYS: "0",
      SHUTDOWN_GRACE_SECONDS: "3",
    });
    try {
      await daemon.waitForLog((l) => l.msg === "run finished" && l.job_name === "tick");
      const report: string[] = [];
      for (const outage of outages) {
        // A run of "slow" is going when the database stops, and finishes during the outage.
        writeFileSync(join(here, "slow"), "");
        const flagAt = Date.now();
        const long = await daemon.waitForLog(
          (l) => l.msg === "run started" && l.job_name === "slow" && Date.parse(String(l.time)) > flagAt,
        );
        rmSync(join(here, "slow"));
        server.stop(outage.mode);
        const downAt = Date.now();
        await sleep(outage.ms);
        server.start();
        const upAt = Date.now();
        // The test's own connection was cut too: a query that fails is asked again.
        const window = (job: string): Promise<Row[]> =>
          sql<
            Row[]
          >`select id::text, scheduled_for, trigger, status, started_at, finished_at from job_runs where job_name = ${job}
            and scheduled_for between ${new Date(downAt - 1000)} and ${new Date(upAt + 3000)} order by scheduled_for`.catch(
            () => [] as Row[],
          );
        const caughtUp = (rows: Row[]) => rows.filter((r) => r.trigger === "catch-up");
        const [tick = [], slow = []] = await waitFor(
          async () => {
            const got = [await window("tick"), await window("slow")];
            return got.every((rows) => caughtUp(rows).some((r) => r.status !== "running")) ? got : undefined;
          },
          20_000,
          `catch-up runs after the ${outage.ms} ms outage (${outage.mode})`,
        ).catch(async (error) => {
          throw new Error(`${error}: ${JSON.stringify([await window("tick"), await window("slow")])}`);
        });
        // (b) "tick" (overlap allowed): its newest missed slot ran once, as catch-up.
        expect(caughtUp(tick).map((r) => r.status)).toEqual(["succeeded"]);
        // (a) The run of "slow" that finished during the outage is recorded as it ended, before its
        // job's catch-up was claimed: that claim's overlap check no longer saw it running.
        const [longRow] = await sql<
          Row[]
        >`select status, started_at, finished_at from job_runs where id = ${String(long.run_id)}`;
        expect(longRow).toMatchObject({ status: "succeeded" });
        const [catchUp, ...more] = caughtUp(slow);
        expect(more).toEqual([]);
        expect(longRow!.finished_at!.getTime()).toBeLessThanOrEqual(catchUp!.started_at.getTime());
        // So it ran, unless another run of "slow" really was going: claimed before it (a smaller
        // id; an on-time slot is claimed ahead of its instant) and not finished when it was claimed.
        if (catchUp!.status === "skipped") {
          const claimedAt = catchUp!.started_at.getTime();
          const going = slow.filter(
            (r) =>
              r.id !== String(long.run_id) &&
              r.status !== "skipped" &&
              Number(r.id) < Number(catchUp!.id) &&
              (r.finished_at?.getTime() ?? Number.POSITIVE_INFINITY) >= claimedAt,
          );
          expect(going, JSON.stringify(slow)).not.toEqual([]);
        } else expect(catchUp!.status).toBe("succeeded");
        report.push(
          `${outage.mode} ${outage.ms} ms: catch-up of ${caughtUp(tick)[0]!.scheduled_for.toISOString()}`,
        );
      }
      console.log(`outages: ${report.join("; ")}`);
      const starts = readFileSync(join(here, "starts.log"), "utf8").trim().split("\n");
      expect(starts.filter((line, i) => starts.indexOf(line) !== i)).toEqual([]);
    } finally {
      if (existsSync(join(here, "slow"))) rmSync(join(here, "slow"));
      daemon.child.kill("SIGTERM");
      expect((await daemon.exited).code, daemon.stderr).toBe(0);
    }
  }, 150_000);
});
