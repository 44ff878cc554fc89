import { afterEach, describe, expect, it } from "vitest";
import { pruneRuns } from "../../src/jobs/builtin/prune-runs.js";
import type { Daemon } from "../../src/run/daemon.js";
import { Store } from "../../src/store/store.js";
import type { JobContext, JobInput } from "../../src/types.js";
import { testDatabase } from "../helpers/db.js";
import { testRunner, waitFor } from "../helpers/runner.js";

const db = await testDatabase("retries");
const running: Daemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((runner) => runner.stop()));
});

/** A daemon (loop every second) with `jobs` registered; started when `start` is true. */
async function replica(id: string, jobs: JobInput[], start = true) {
  const made = testRunner(db.sql, { JOB_RUNNER_ID: id, JOB_LOOP_INTERVAL_SECONDS: "1" });
  for (const job of jobs) made.runner.registerJob(job);
  running.push(made.runner);
  if (start) await made.runner.start();
  return made;
}

/** What each attempt saw of its context. */
type Seen = Pick<JobContext, "runId" | "attempt" | "idempotencyKey" | "fencingToken" | "params">;

/** A job whose first attempt fails and whose retry succeeds, after a fixed backoff. */
function failsOnce(
  name: string,
  backoff: string,
  seen: Seen[] = [],
  overlap: "skip" | "allow" = "skip",
): JobInput {
  return {
    name,
    schedule: "@yearly",
    overlap,
    retries: { attempts: 2, backoff: "fixed", initial: backoff },
    run: (ctx) => {
      const { runId, attempt, idempotencyKey, fencingToken, params } = ctx;
      seen.push({ runId, attempt, idempotencyKey, fencingToken, params });
      if (attempt === 1) throw new Error("first attempt fails");
      return "second attempt ok";
    },
  };
}

const runsOf = (name: string) =>
  db.sql<
    { id: string; trigger: string; attempt: number; status: string; runner_id: string; started_at: Date }[]
  >`select id::text, trigger, attempt, status, runner_id, started_at from job_runs where job_name = ${name} order by id`;

const pendingOf = (name: string) =>
  db.sql<
    { retry_of: string; attempt: number; run_after: Date; scheduled_by: string; idempotency_key: string }[]
  >`select retry_of::text, attempt, run_after, scheduled_by, idempotency_key from job_retries where job_name = ${name}`;

describe("retries are rows", () => {
  it("a failed attempt's retry waits as a row and runs at its due time, keeping key and params, with a larger token", async () => {
    const seen: Seen[] = [];
    const { runner } = await replica("solo", [failsOnce("flaky", "2s", seen, "allow")]);
    const first = await runner.triggerJob("flaky", { day: "monday" });
    const pending = await waitFor(async () => (await pendingOf("flaky"))[0]);
    expect(pending).toMatchObject({
      retry_of: first.runId,
      attempt: 2,
      scheduled_by: "solo",
      idempotency_key: first.runId,
    });
    // Another run starts during the backoff: the retry, started later, still gets the larger token.
    const between = await runner.triggerJob("flaky");
    expect((await first.done).status).toBe("succeeded");
    await between.done;
    const rows = await runsOf("flaky");
    const retry = rows.find(
      (row) => row.trigger === "retry" && seen.some((s) => s.runId === row.id && s.params.day),
    )!;
    expect(retry).toMatchObject({ attempt: 2, status: "succeeded", runner_id: "solo" });
    // Not before its due time.
    expect(retry.started_at.getTime()).toBeGreaterThanOrEqual(pending.run_after.getTime());
    const attempts = seen.filter((s) => s.idempotencyKey === first.runId);
    expect(attempts.map((s) => ({ attempt: s.attempt, params: s.params }))).toEqual([
      { attempt: 1, params: { day: "monday" } },
      { attempt: 2, params: { day: "monday" } },
    ]);
    expect(attempts[1]!.fencingToken).toBe(Number(retry.id));
    expect(attempts[1]!.fencingToken).toBeGreaterThan(Number(between.runId));
    expect(await pendingOf("flaky")).toEqual([]);
  });

  it("a replica that stops during the backoff leaves the retry; another replica runs it once, at its time", async () => {
    const a = await replica("replica-a", [failsOnce("handover", "3s")]);
    const b = await replica("replica-b", [failsOnce("handover", "3s")]);
    const first = await a.runner.triggerJob("handover");
    const pending = await waitFor(async () => (await pendingOf("handover"))[0]);
    await a.runner.stop();
    expect((await first.done).status).toBe("failed");
    expect(await pendingOf("handover")).toHaveLength(1);
    await waitFor(async () => (await runsOf("handover")).some((row) => row.status === "succeeded"), 15_000);
    const rows = await runsOf("handover");
    expect(rows).toMatchObject([
      { attempt: 1, status: "failed", runner_id: "replica-a" },
      { attempt: 2, status: "succeeded", runner_id: "replica-b", trigger: "retry" },
    ]);
    expect(rows[1]!.started_at.getTime()).toBeGreaterThanOrEqual(pending.run_after.getTime());
    expect(b.lines.some((line) => line.includes('"msg":"retry taken over from replica-a"'))).toBe(true);
    expect(await pendingOf("handover")).toEqual([]);
  });

  it("two live replicas sharing the database run each retry once", async () => {
    const seen: Seen[] = [];
    const job = failsOnce("shared", "3s", seen, "allow");
    const a = await replica("replica-a", [job]);
    const b = await replica("replica-b", [job]);
    const runs: { runId: string; done: Promise<unknown>; other: string[] }[] = [];
    for (let i = 0; i < 4; i++)
      runs.push(
        { ...(await a.runner.triggerJob("shared")), other: b.lines },
        { ...(await b.runner.triggerJob("shared")), other: a.lines },
      );
    // Each replica also watches the other's retries (the loop's step, called now so it surely
    // does): whichever of them comes second finds the row taken.
    const jobOf = (name: string) => (name === "shared" ? a.runner.registry.get(name) : undefined);
    await waitFor(async () => (await pendingOf("shared")).length === runs.length);
    await Promise.all(
      [a, b].map(({ runner }) =>
        runner.executor!.retries.adopt(jobOf, (name: string) => name === "shared", 60_000),
      ),
    );
    await Promise.all(runs.map((run) => run.done));
    // The takeover timer of the replica that did not schedule each retry has fired: it found the
    // row taken (or, on a slow machine, took it itself, and the scheduler found it taken).
    await waitFor(
      () =>
        runs.every(({ runId, other }) =>
          other.some(
            (line) =>
              line.includes(`"retry_of":"${runId}"`) &&
              /"msg":"(retry already taken|retry taken over from)/.test(line),
          ),
        ),
      15_000,
      "every takeover timer",
    );
    const rows = await runsOf("shared");
    const retries = rows.filter((row) => row.trigger === "retry");
    expect(retries).toHaveLength(runs.length);
    expect(retries.every((row) => row.attempt === 2 && row.status === "succeeded")).toBe(true);
    // One second attempt per first attempt, across both replicas' handlers.
    const keys = seen.filter((s) => s.attempt === 2).map((s) => s.idempotencyKey);
    expect(keys.sort()).toEqual(runs.map((run) => run.runId).sort());
    expect(await pendingOf("shared")).toEqual([]);
  });

  it("prune_runs deletes a retry with the failed run it retries, and keeps the others", async () => {
    const store = new Store(db.sql, "pruner", 60);
    const retryOf = async (age: string) => {
      const failed = await store.insertRun({
        jobName: "pruned",
        trigger: "manual",
        attempt: 1,
        scheduledFor: null,
        params: {},
      });
      await db.sql`update job_runs set status = 'failed', started_at = now() - ${age}::interval where id = ${failed}`;
      await store.retries.schedule({
        retryOf: failed,
        jobName: "pruned",
        scheduledFor: null,
        attempt: 2,
        params: {},
        idempotencyKey: failed,
        runAfter: new Date(Date.now() + 3_600_000),
        overlapSkip: true,
      });
      return failed;
    };
    const old = await retryOf("40 days");
    const recent = await retryOf("1 day");
    await pruneRuns(db.sql, 30, new AbortController().signal);
    const left = await db.sql<
      { retry_of: string }[]
    >`select retry_of::text from job_retries where job_name = 'pruned'`;
    expect(left.map((row) => row.retry_of)).toEqual([recent]);
    expect(await db.sql`select 1 from job_runs where id = ${old}`).toHaveLength(0);
  });

  it("of replicas taking the same retries at once, exactly one gets each", async () => {
    const stores = ["x", "y", "z"].map((id) => new Store(db.sql, id, 60));
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const failed = await stores[0]!.insertRun({
        jobName: "race",
        trigger: "manual",
        attempt: 1,
        scheduledFor: null,
        params: {},
      });
      await stores[0]!.retries.schedule({
        retryOf: failed,
        jobName: "race",
        scheduledFor: null,
        attempt: 2,
        params: {},
        idempotencyKey: failed,
        runAfter: new Date(),
        overlapSkip: true,
      });
      ids.push(failed);
    }
    const taken = await Promise.all(ids.flatMap((id) => stores.map((store) => store.retries.take(id))));
    const won = taken.filter((row) => row !== undefined);
    expect(won.map((row) => row.retry_of).sort()).toEqual([...ids].sort());
    const [count] =
      await db.sql`select count(*)::int as n from job_runs where job_name = 'race' and attempt = 2`;
    expect(count!.n).toBe(ids.length);
  });
  it("a retry whose row the database refuses before the outcome is written again after it, and runs once", async () => {
    // Refuses this job's retry rows while the failed attempt still reads running (the first write).
    await db.sql.unsafe(`
      create function refuse_early_retry() returns trigger language plpgsql as $$
      begin
        if (select status from job_runs where id = new.retry_of) = 'running' then
          raise exception 'refused while the attempt is running';
        end if;
        return new;
      end $$;
      create trigger refuse_early_retry before insert on job_retries
        for each row when (new.job_name = 'refused') execute function refuse_early_retry();`);
    try {
      const seen: Seen[] = [];
      const { runner } = await replica("refused", [failsOnce("refused", "1s", seen)]);
      const first = await runner.triggerJob("refused");
      expect((await first.done).status).toBe("succeeded");
      expect(await runsOf("refused")).toMatchObject([
        { attempt: 1, status: "failed", trigger: "manual" },
        { attempt: 2, status: "succeeded", trigger: "retry" },
      ]);
      expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
      expect(await pendingOf("refused")).toEqual([]);
    } finally {
      await db.sql.unsafe(
        "drop trigger refuse_early_retry on job_retries; drop function refuse_early_retry()",
      );
    }
  });
});
