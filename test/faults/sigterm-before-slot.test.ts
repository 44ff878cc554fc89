import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";

// Item 16: a SIGTERM that lands after a slot was claimed (ahead of its instant, by the claim lead)
// but before its instant must give the claim back, so the slot still runs: on the other replica,
// or on the same one started again at once.
const db = await testDatabase("sigterm");
const jobs = jobsModule(`
import { appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
const ledger = join(dirname(new URL(import.meta.url).pathname), "starts.log");
// overlap "allow": under load the survivor claims the next slots ahead of their instant, and with
// "skip" a given-back slot caught up after them is recorded skipped (a later run is "running"),
// which is overlap's rule, not what this file tests.
export default [
  { name: "tick", schedule: "* * * * * *", catchUp: "all", misfireGraceSeconds: 60, overlap: "allow",
    run: (ctx) => appendFileSync(ledger, ctx.scheduledFor.toISOString() + " " + process.pid + "\\n") },
];`);
const ledger = join(dirname(jobs), "starts.log");

const spawn = (id: string) =>
  new RunnerProcess(["--interval", "1", "--jobs", jobs], {
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: db.schema,
    JOB_RUNNER_ID: id,
    RUN_RETENTION_DAYS: "0",
    SHUTDOWN_GRACE_SECONDS: "2",
  });
const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
const started = (p: RunnerProcess) => p.waitForLog((l) => l.msg === "runner started");

/**
 * Wait for a whole second T at least 300 ms away; until 34 ms before it, read which replica holds T's
 * claim, and SIGTERM that one 30 ms before T. Returns T, the holder's id and whether it released
 * the claim (a stop that reaches the executor only after T, on a busy machine, starts the run
 * instead and waits for it), or undefined when no claim was made yet.
 */
async function sigtermBeforeSlot(replicas: Map<string, RunnerProcess>) {
  const slot = Math.ceil((Date.now() + 300) / 1000) * 1000;
  await sleepUntil(slot - 60);
  let row: { runner_id: string; status: string } | undefined;
  while (!row && Date.now() < slot - 34) {
    [row] = await db.sql<{ runner_id: string; status: string }[]>`
      select runner_id, status from job_runs where job_name = 'tick' and scheduled_for = ${new Date(slot)}`;
  }
  if (row?.status !== "running") return undefined;
  await sleepUntil(slot - 30);
  const holder = replicas.get(row.runner_id);
  if (!holder)
    throw new Error(
      `slot ${new Date(slot).toISOString()} is held by ${row.runner_id}, not one of ${[...replicas.keys()]}`,
    );
  holder.child.kill("SIGTERM");
  expect((await holder.exited).code).toBe(0);
  const released = holder.logs().some((l) => String(l.msg).startsWith("released 1 claimed slot"));
  return { slot: new Date(slot), holder: row.runner_id, released };
}

const slotRows = (slot: Date) =>
  db.sql<{ status: string; runner_id: string; trigger: string; error: string | null }[]>`
    select status, runner_id, trigger, error from job_runs where job_name = 'tick' and scheduled_for = ${slot}`;

/** The slot has exactly one row, and it succeeded. */
async function ranOnce(slot: Date) {
  const rows = await waitFor(
    async () => {
      const got = await slotRows(slot);
      return got.length === 1 && got[0]!.status === "succeeded" ? got : undefined;
    },
    15_000,
    `slot ${slot.toISOString()} to run`,
  ).catch(async (error) => {
    throw new Error(`${error}: its rows are ${JSON.stringify(await slotRows(slot))}`);
  });
  return rows[0]!;
}

function noSlotStartedTwice() {
  const slots = readFileSync(ledger, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" ")[0]);
  expect(slots.filter((slot, i) => slots.indexOf(slot) !== i)).toEqual([]);
}

async function stopAll(replicas: Iterable<RunnerProcess>) {
  for (const replica of replicas) replica.child.kill("SIGTERM");
  for (const replica of replicas) expect((await replica.exited).code).toBe(0);
}

describe("SIGTERM 30 ms before a claimed slot's instant", () => {
  it("without a second replica: the process started again at once runs the slot", async () => {
    const replicas = new Map([["solo", spawn("solo")]]);
    try {
      await started(replicas.get("solo")!);
      let hits = 0;
      for (let round = 0; round < 10 && hits < 3; round++) {
        const hit = await sigtermBeforeSlot(replicas);
        if (!hit) continue;
        replicas.set("solo", spawn("solo"));
        await started(replicas.get("solo")!);
        // Given back before its instant, or started at it: either way the slot runs, once.
        if (hit.released) hits++;
        expect(await ranOnce(hit.slot)).toMatchObject({ runner_id: "solo" });
      }
      expect(hits).toBeGreaterThan(0);
    } finally {
      await stopAll(replicas.values());
    }
    noSlotStartedTwice();
  }, 120_000);

  it("with a second replica alive: the other replica runs the slot at its next loop tick", async () => {
    const replicas = new Map([
      ["r1", spawn("r1")],
      ["r2", spawn("r2")],
    ]);
    try {
      await Promise.all([...replicas.values()].map(started));
      let hits = 0;
      for (let round = 0; round < 10 && hits < 3; round++) {
        const hit = await sigtermBeforeSlot(replicas);
        if (!hit) continue;
        if (hit.released) {
          hits++;
          // The holder gave the slot back before its instant: the survivor took and ran it.
          const survivor = hit.holder === "r1" ? "r2" : "r1";
          expect(await ranOnce(hit.slot)).toMatchObject({ runner_id: survivor });
        } else {
          expect(await ranOnce(hit.slot)).toMatchObject({ runner_id: hit.holder });
        }
        replicas.set(hit.holder, spawn(hit.holder));
        await started(replicas.get(hit.holder)!);
      }
      expect(hits).toBeGreaterThan(0);
    } finally {
      await stopAll(replicas.values());
    }
    noSlotStartedTwice();
  }, 120_000);
});
