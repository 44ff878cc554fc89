import { existsSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { builtinJobs } from "../../src/jobs/builtin/index.js";
import { pruneRuns } from "../../src/jobs/builtin/prune-runs.js";
import { storageJanitor } from "../../src/jobs/builtin/storage-janitor.js";
import { context } from "../helpers/context.js";
import { testDatabase } from "../helpers/db.js";

const db = await testDatabase("builtin");

/** A directory with old and new files, nested, and a symlink pointing outside it. */
function tree() {
  const dir = mkdtempSync(join(tmpdir(), "runner-janitor-"));
  const outside = mkdtempSync(join(tmpdir(), "runner-outside-"));
  writeFileSync(join(outside, "precious"), "keep me");
  const old = new Date(Date.now() - 48 * 3_600_000);
  mkdirSync(join(dir, "uploads/2026"), { recursive: true });
  for (const [path, body, aged] of [
    ["a.tmp", "aaaa", true],
    ["fresh.tmp", "ffff", false],
    ["uploads/2026/b.tmp", "bbbbbbbb", true],
  ] as const) {
    writeFileSync(join(dir, path), body);
    if (aged) utimesSync(join(dir, path), old, old);
  }
  symlinkSync(outside, join(dir, "link-outside"));
  return { dir, outside };
}

describe("storage_janitor", () => {
  it("deletes files older than the age, keeps newer ones, removes emptied directories", async () => {
    const { dir, outside } = tree();
    const result = await storageJanitor({ dir, maxAgeHours: 24, dryRun: false }, context());
    expect(result).toEqual({
      dir,
      dry_run: false,
      scanned: 4,
      deleted: 2,
      deleted_bytes: 12,
      kept: 2,
      errors: 0,
    });
    // A symbolic link is never followed: what it points to is not the janitor's.
    expect(existsSync(join(outside, "precious"))).toBe(true);
    expect(existsSync(join(dir, "a.tmp"))).toBe(false);
    expect(existsSync(join(dir, "fresh.tmp"))).toBe(true);
    expect(existsSync(join(dir, "uploads"))).toBe(false);
  });

  it("in dry-run mode counts what it would delete and deletes nothing", async () => {
    const { dir } = tree();
    const result = await storageJanitor({ dir, maxAgeHours: 24, dryRun: true }, context());
    expect(result).toMatchObject({ dry_run: true, deleted: 2, kept: 2 });
    expect(existsSync(join(dir, "a.tmp"))).toBe(true);
    expect(existsSync(join(dir, "uploads/2026/b.tmp"))).toBe(true);
  });

  it("is on only when STORAGE_JANITOR_DIR is set, with its options", () => {
    expect(builtinJobs(loadConfig({})).map((j) => j.name)).toEqual(["prune_runs"]);
    const jobs = builtinJobs(
      loadConfig({ STORAGE_JANITOR_DIR: "/data", STORAGE_JANITOR_DRY_RUN: "true", RUN_RETENTION_DAYS: "0" }),
    );
    expect(jobs.map((j) => [j.name, j.schedule, j.description])).toEqual([
      ["storage_janitor", "0 3 * * *", "delete files older than 24 h under /data (dry run)"],
    ]);
  });
});

describe("prune_runs", () => {
  it("deletes runs older than the retention in batches, never running ones", async () => {
    await db.sql`
      insert into job_runs (job_name, trigger, status, runner_id, started_at)
      select 'old', 'manual', 'succeeded', 'r', now() - interval '40 days' from generate_series(1, 25)`;
    await db.sql`insert into job_runs (job_name, trigger, status, runner_id, started_at) values
      ('old', 'manual', 'running', 'r', now() - interval '40 days'),
      ('recent', 'manual', 'succeeded', 'r', now() - interval '2 days')`;
    const result = await pruneRuns(db.sql, 30, new AbortController().signal, 10);
    expect(result).toEqual({ deleted: 25, batches: 3, triggers: 0, audit: 0, slots: 0, backfills: 0 });
    const left = await db.sql`select job_name, status from job_runs order by job_name`;
    expect(left.map((r) => `${r.job_name}:${r.status}`)).toEqual(["old:running", "recent:succeeded"]);
  });

  it("prunes the slot ledger and the replica spans with the runs", async () => {
    await db.sql`insert into job_slots (job_name, first_slot, last_slot, slot_count, fate, reason, recorded_by) values
      ('old', now() - interval '41 days', now() - interval '40 days', 86400, 'paused', 'paused by x', 'r'),
      ('old', now() - interval '31 days', now() - interval '1 day', 3, 'missed', 'overloaded', 'r')`;
    await db.sql`insert into job_runner_spans (runner_id, started_at, live_until) values
      ('r', now() - interval '50 days', now() - interval '40 days'), ('r', now() - interval '2 days', now())`;
    const result = await pruneRuns(db.sql, 30, new AbortController().signal, 10);
    expect(result.slots).toBe(1);
    const slots = await db.sql`select fate from job_slots`;
    expect(slots.map((r) => r.fate)).toEqual(["missed"]);
    const spans = await db.sql`select count(*)::int as n from job_runner_spans`;
    expect(spans[0]!.n).toBe(1);
  });
  it("prunes backfill requests that finished before the retention, never open ones however old", async () => {
    const request = (label: string, requested: string, finished: string | null) => db.sql`
      insert into job_backfills (job_name, window_from, window_to, concurrency, requested_by, requested_at, finished_at)
      values (${label}, now() - interval '90 days', now() - interval '89 days', 1, 'ops',
              now() - ${requested}::interval, now() - ${finished}::interval)`;
    await request("finished-long-ago", "45 days", "40 days");
    await request("open-long-ago", "45 days", null);
    // Asked for long ago, finished within the retention: kept, as the runs it made are.
    await request("finished-lately", "45 days", "2 days");
    const result = await pruneRuns(db.sql, 30, new AbortController().signal, 10);
    expect(result.backfills).toBe(1);
    const left = await db.sql`select job_name from job_backfills order by job_name`;
    expect(left.map((r) => r.job_name)).toEqual(["finished-lately", "open-long-ago"]);
  });
});
