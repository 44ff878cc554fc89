import { afterEach, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";
import { fakeTimeLibrary, needTool } from "../helpers/tools.js";

/**
 * DST policies in the real binary: `runner run` under libfaketime, its clock started a few seconds
 * before a transition day's instant and moving at normal speed, against the real PostgreSQL whose
 * now() stays the real date. The rows say which instants ran. (test/schedule/dst*.test.ts prove
 * every zone and policy with fake clocks; this proves the daemon wires them to the wall clock.)
 */
const db = await testDatabase("dstfaketime");

/** Seconds between the faked start and the instant: room for Node, the connection and migrations. */
const LEAD_SECONDS = 12;

const jobs = (entries: [name: string, schedule: string, timezone: string, dst?: object][]) =>
  jobsModule(`const run = async () => {};
export default [
${entries.map(([name, schedule, timezone, dst]) => `  { name: ${JSON.stringify(name)}, schedule: ${JSON.stringify(schedule)}, timezone: ${JSON.stringify(timezone)}, ${dst ? `dst: ${JSON.stringify(dst)}, ` : ""}run },`).join("\n")}
  // Runs every second: once it has run past an instant, a job that did not run then never will.
  { name: "marker", schedule: "* * * * * *", overlap: "allow", run },
];`);

const started: RunnerProcess[] = [];
afterEach(async () => {
  for (const proc of started.splice(0)) {
    proc.child.kill("SIGTERM");
    const end = await proc.exited;
    expect(end.code, end.stderr.slice(-2000)).toBe(0);
  }
});

/** `runner run --interval 1` whose clock reads `instant` minus LEAD_SECONDS when it starts. */
function runnerBefore(instant: string, module: string, id: string, test: { skip(note: string): never }) {
  needTool("faketime", test);
  const start = new Date(Date.parse(instant) - LEAD_SECONDS * 1000);
  const proc = new RunnerProcess(["run", "--interval", "1", "--jobs", module], {
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: db.schema,
    JOB_RUNNER_ID: id,
    TZ: "UTC",
    LD_PRELOAD: fakeTimeLibrary(),
    // "@": start there and move at normal speed. Node's timers run on the monotonic clock, which
    // is left real so a timer's delay is what it says whatever libfaketime does to it.
    FAKETIME: `@${start.toISOString().slice(0, 19).replace("T", " ")}`,
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  });
  started.push(proc);
  return proc;
}

interface Row {
  job_name: string;
  scheduled_for: string;
  trigger: string;
  status: string;
}

/** Every finished run of `names`, oldest slot first. */
const runs = async (...names: string[]) =>
  (
    await db.sql<Row[]>`
      select job_name, scheduled_for, trigger, status from job_runs
      where job_name in ${db.sql(names)} and status <> 'running' order by scheduled_for, job_name`
  ).map((row) => ({ ...row, scheduled_for: new Date(row.scheduled_for).toISOString() }));

const ran = (job_name: string, scheduled_for: string) => ({
  job_name,
  scheduled_for,
  trigger: "schedule",
  status: "succeeded",
});

/** Wait until this process's marker job ran a slot 3 s past `instant`. */
async function pastInstant(proc: RunnerProcess, id: string, instant: string) {
  const after = new Date(Date.parse(instant) + 3000);
  await waitFor(
    async () =>
      (
        await db.sql`select 1 from job_runs where job_name = 'marker' and runner_id = ${id} and scheduled_for >= ${after} and status <> 'running'`
      ).length > 0,
    (LEAD_SECONDS + 20) * 1000,
    `the marker past ${instant}\n${proc.stdout.slice(-2000)}\n${proc.stderr.slice(-2000)}`,
  );
}

/** The next instant the daemon logged for `job` when it scheduled it. */
async function loggedNext(proc: RunnerProcess, job: string) {
  const line = await proc.waitForLog((l) => l.msg === "job scheduled" && l.job_name === job, 30_000);
  return line.next_run_at;
}

describe("DST policies under libfaketime (real processes)", { timeout: 120_000 }, () => {
  it("Europe/Berlin spring forward: skipped shift runs once at 01:00Z when clocks jump; skipped skip does not run that day", async (test) => {
    const instant = "2026-03-29T01:00:00.000Z";
    const module = jobs([
      ["berlin_shift", "30 2 * * *", "Europe/Berlin", { skipped: "shift" }],
      ["berlin_skip", "30 2 * * *", "Europe/Berlin", { skipped: "skip" }],
    ]);
    const proc = runnerBefore(instant, module, "spring", test);
    expect(await loggedNext(proc, "berlin_shift")).toBe(instant);
    // 02:30 CEST the next day: 29 March has no 02:30 and the policy moves it nowhere.
    expect(await loggedNext(proc, "berlin_skip")).toBe("2026-03-30T00:30:00.000Z");
    await waitFor(
      async () => (await runs("berlin_shift")).length > 0,
      (LEAD_SECONDS + 20) * 1000,
      "berlin_shift",
    );
    await pastInstant(proc, "spring", instant);
    expect(await runs("berlin_shift", "berlin_skip")).toEqual([ran("berlin_shift", instant)]);
  });

  describe("Europe/Berlin fall back (02:30 local happens at 00:30Z and again at 01:30Z)", () => {
    const module = jobs([
      ["berlin_first", "30 2 * * *", "Europe/Berlin", { repeated: "first" }],
      ["berlin_last", "30 2 * * *", "Europe/Berlin", { repeated: "last" }],
      ["berlin_both", "30 2 * * *", "Europe/Berlin", { repeated: "both" }],
    ]);
    const names = ["berlin_first", "berlin_last", "berlin_both"];
    const firstPass = "2026-10-25T00:30:00.000Z";
    const secondPass = "2026-10-25T01:30:00.000Z";

    it("at the first pass, 00:30Z: first and both run, last does not", async (test) => {
      const proc = runnerBefore(firstPass, module, "fall-first", test);
      expect(await loggedNext(proc, "berlin_last")).toBe(secondPass);
      expect(await loggedNext(proc, "berlin_first")).toBe(firstPass);
      await pastInstant(proc, "fall-first", firstPass);
      expect(await runs(...names)).toEqual([ran("berlin_both", firstPass), ran("berlin_first", firstPass)]);
    });

    it("at the second pass, 01:30Z, in a process started then: last and both run, first does not", async (test) => {
      const proc = runnerBefore(secondPass, module, "fall-second", test);
      // first's next 02:30 is the next day's (CET): the repeated 02:30 is not first's.
      expect(await loggedNext(proc, "berlin_first")).toBe("2026-10-26T01:30:00.000Z");
      await pastInstant(proc, "fall-second", secondPass);
      expect((await runs(...names)).filter((row) => row.scheduled_for === secondPass)).toEqual([
        ran("berlin_both", secondPass),
        ran("berlin_last", secondPass),
      ]);
    });
  });

  it("Australia/Lord_Howe spring forward by 30 minutes: 02:15 shifts to 15:30Z (02:30 LHDT) or is skipped", async (test) => {
    const instant = "2026-10-03T15:30:00.000Z";
    const module = jobs([
      ["lhi_shift", "15 2 * * *", "Australia/Lord_Howe", { skipped: "shift" }],
      ["lhi_skip", "15 2 * * *", "Australia/Lord_Howe", { skipped: "skip" }],
    ]);
    const proc = runnerBefore(instant, module, "lord-howe", test);
    // 02:15 LHDT (UTC+11) the next day.
    expect(await loggedNext(proc, "lhi_skip")).toBe("2026-10-04T15:15:00.000Z");
    await pastInstant(proc, "lord-howe", instant);
    expect(await runs("lhi_shift", "lhi_skip")).toEqual([ran("lhi_shift", instant)]);
  });
});
