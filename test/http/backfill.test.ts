import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobContext } from "../../src/types.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("backfillhttp");
const PASSWORD = "correct horse battery staple";
const ADMIN = { ...basic("ops", PASSWORD), "content-type": "application/json" };
// Every handler call of both replicas, in order: a slot run twice shows twice.
const ledger: { replica: string; slot: string; key: string }[] = [];
const replicas: Awaited<ReturnType<typeof sidecarRunner>>[] = [];

beforeAll(async () => {
  for (const id of ["bf-a", "bf-b"]) {
    const made = await sidecarRunner(db.sql, {
      JOB_RUNNER_ID: id,
      JOB_LOOP_INTERVAL_SECONDS: "1",
      // Each replica runs at most two slots at once; the backfill allows four: both must take part.
      MAX_CONCURRENT_RUNS: "2",
      ADMIN_BASIC_USERNAME: "ops",
      ADMIN_BASIC_PASSWORD: PASSWORD,
    });
    made.runner.registerJob({
      name: "hourly",
      schedule: "0 * * * *",
      overlap: "allow",
      run: async (ctx: JobContext) => {
        ledger.push({ replica: id, slot: ctx.scheduledFor!.toISOString(), key: ctx.idempotencyKey });
        // The first slots wait for the other replica's first one: neither can take the whole window.
        await waitFor(() => new Set(ledger.map((call) => call.replica)).size === 2, 20_000, "both replicas");
      },
    });
    await made.runner.start();
    replicas.push(made);
  }
});
afterAll(async () => {
  for (const made of replicas) await made.runner.stop();
});

const post = (body: unknown, headers: Record<string, string> = ADMIN, job = "hourly") =>
  replicas[0]!.request(`/v1/admin/jobs/${job}/backfill`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
const hours = (first: string, count: number) =>
  Array.from({ length: count }, (_, i) => new Date(Date.parse(first) + i * 3_600_000).toISOString());

describe("POST /v1/admin/jobs/:name/backfill", { timeout: 60_000 }, () => {
  it("is shared by the live replicas: each slot runs exactly once, as itself; the audit trail has the window", async () => {
    const window = { from: "2026-02-01T00:00:00Z", to: "2026-02-01T15:00:00Z" };
    const answer = await post({ ...window, concurrency: 4 });
    expect(answer.status).toBe(202);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toEqual({
      backfill_id: expect.stringMatching(/^\d+$/),
      job_name: "hourly",
      from: "2026-02-01T00:00:00.000Z",
      to: "2026-02-01T15:00:00.000Z",
      concurrency: 4,
      rate: null,
      slots: 16,
    });
    const finished = await waitFor(
      async () =>
        (
          await db.sql<{ summary: Record<string, number> }[]>`
            select summary from job_backfills where id = ${body.backfill_id as string} and finished_at is not null`
        )[0],
      30_000,
      "the backfill to finish",
    );
    expect(finished.summary).toEqual({ slots: 16, already_succeeded: 0, succeeded: 16, failed: 0 });
    const slots = hours("2026-02-01T00:00:00.000Z", 16);
    expect(ledger.map((call) => call.slot).sort()).toEqual(slots);
    for (const call of ledger) expect(call.key).toBe(`hourly@${call.slot}`);
    // Both replicas took part: each held at most two slots, and the first ones waited for the other.
    expect(new Set(ledger.map((call) => call.replica))).toEqual(new Set(["bf-a", "bf-b"]));
    const rows = await db.sql<{ scheduled_for: Date; trigger: string; attempt: number; status: string }[]>`
      select scheduled_for, trigger, attempt, status from job_runs where job_name = 'hourly' order by scheduled_for`;
    expect(rows.map((r) => [r.scheduled_for.toISOString(), r.trigger, r.attempt, r.status])).toEqual(
      slots.map((slot) => [slot, "backfill", 1, "succeeded"]),
    );
    const [event] = await db.sql<{ actor: string; details: Record<string, unknown> }[]>`
      select actor, details from job_audit where action = 'backfill' and job_name = 'hourly'`;
    expect(event).toEqual({
      actor: "ops",
      details: {
        backfill_id: body.backfill_id,
        from: "2026-02-01T00:00:00.000Z",
        to: "2026-02-01T15:00:00.000Z",
        concurrency: 4,
        rate: null,
      },
    });
  });

  it("dry_run lists the slots without a success and stores nothing", async () => {
    const answer = await post({ from: "2026-02-01T14:00Z", to: "2026-02-01T17:00Z", dry_run: true });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      job_name: "hourly",
      from: "2026-02-01T14:00:00.000Z",
      to: "2026-02-01T17:00:00.000Z",
      dry_run: true,
      slots: ["2026-02-01T16:00:00.000Z", "2026-02-01T17:00:00.000Z"],
      already_succeeded: 2,
    });
    expect(await db.sql`select 1 from job_backfills where window_to = '2026-02-01T17:00Z'`).toHaveLength(0);
    expect(await db.sql`select 1 from job_audit where action = 'backfill'`).toHaveLength(1);
  });

  it("refuses without credentials (401), from another site (403), bad input (400), an unknown job (404)", async () => {
    const window = { from: "2026-02-02T00:00Z", to: "2026-02-02T01:00Z" };
    const json = { "content-type": "application/json" };
    expect((await post(window, json)).status).toBe(401);
    expect((await post(window, { ...ADMIN, ...basic("ops", "wrong") })).status).toBe(401);
    expect((await post(window, { ...ADMIN, origin: "https://evil.example" })).status).toBe(403);
    expect((await post(window, { ...ADMIN, "sec-fetch-site": "cross-site" })).status).toBe(403);
    const bad: [unknown, string][] = [
      [
        { from: "2026-02-02T01:00Z", to: "2026-02-02T00:00Z" },
        "from: 2026-02-02T01:00:00.000Z is after to (2026-02-02T00:00:00.000Z)",
      ],
      [{ to: "2026-02-02T00:00Z" }, "from: required, an ISO time with a zone, e.g. 2026-03-29T00:00Z"],
      [
        { ...window, rate: "lots" },
        'rate: expected slots per second above 0 and at most 1000, e.g. 5/s (got "lots")',
      ],
      [{ ...window, concurrency: 1000 }, "concurrency: expected an integer from 1 to 100 (got 1000)"],
      [{ ...window, dry_run: "yes" }, "dry_run: expected true or false"],
      [{ ...window, params: {} }, "params: unknown field (expected from, to, concurrency, rate, dry_run)"],
      [
        { from: "2099-01-01T00:00Z", to: "2099-01-02T00:00Z" },
        "to: 2099-01-02T00:00:00.000Z is in the future; backfill runs past slots only",
      ],
    ];
    for (const [body, error] of bad) {
      const answer = await post(body);
      expect([answer.status, await answer.json()]).toEqual([400, { error }]);
    }
    const unknown = await post(window, ADMIN, "nope");
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'unknown job "nope"' }]);
    // Refusals are no event and no request.
    expect(await db.sql`select 1 from job_audit where action = 'backfill'`).toHaveLength(1);
    expect(await db.sql`select 1 from job_backfills`).toHaveLength(1);
  });
});
