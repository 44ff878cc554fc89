import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

/**
 * The job page's Slots section stays bounded for a per-second job: it reads about the newest
 * 500 planned slots, not the day's 86,400, and shows the newest 50 ranges with a note. The job
 * is disabled so that nothing fires; its runs are rows written here, every other second, so that
 * its fates alternate and fold into hundreds of ranges.
 */
const db = await testDatabase("console_slots");
const ADMIN = basic("ops", "console-slots-pass-4");
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    ADMIN_BASIC_USERNAME: "ops",
    ADMIN_BASIC_PASSWORD: "console-slots-pass-4",
  });
  made.runner.registerJob({ name: "dense", schedule: "* * * * * *", enabled: false, run: () => {} });
  made.runner.registerJob({ name: "nightly", schedule: "0 3 * * *", run: () => {} });
  await made.runner.start();
  // Known for two days, so its whole 24 h window is planned slots.
  await db.sql`update job_state set first_seen_at = now() - interval '2 days'`;
  await db.sql`
    insert into job_runs (job_name, scheduled_for, trigger, attempt, status, runner_id, started_at, finished_at)
    select 'dense', date_trunc('second', now()) - g * interval '1 second', 'schedule', 1, 'succeeded', 'r1',
      date_trunc('second', now()) - g * interval '1 second', date_trunc('second', now()) - g * interval '1 second'
    from generate_series(20, 1600, 2) as g`;
});
afterAll(() => made.runner.stop());

const slotsOf = async (name: string) => {
  const res = await made.request(`/jobs/${name}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  const html = await res.text();
  const section = /<section aria-labelledby="slots">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
  return {
    section,
    rows: [...section.matchAll(/<tr><td data-label="First">/g)].length,
    note: /<p class="muted">([^<]*)/.exec(section)?.[1] ?? "",
  };
};

describe("the job page's Slots section", () => {
  it("reads about the newest 500 slots of a per-second job and shows its newest 50 ranges", async () => {
    const { section, rows, note } = await slotsOf("dense");
    expect(rows).toBe(50);
    expect(note).toMatch(/^The newest 500 planned slots \(a dense schedule; not the whole 24 h\), /);
    const [, slots, ranges, hidden] =
      /: (\d+) planned slots in (\d+) ranges; the newest 50 shown, (\d+) older not\./.exec(note) ?? [];
    // About 500: the bound is counted at the zone's offset, the report under its DST rules.
    expect(Math.abs(Number(slots) - 500)).toBeLessThanOrEqual(2);
    expect(Number(ranges)).toBeGreaterThan(400);
    expect(Number(hidden)).toBe(Number(ranges) - 50);
    expect(section).toContain("the job is disabled (enabled: false)");
    // Runs and the seconds between them alternate: ran (with its run), and missed: no replica was up then.
    expect(section).toMatch(
      /<strong>ran<\/strong><\/td>\n<td data-label="Reason">succeeded<\/td><td data-label="Run"><a href="\/runs\/\d+">run \d+<\/a>/,
    );
    expect(section).toContain('<strong>missed</strong></td>\n<td data-label="Reason">runner down</td>');
  });

  it("covers the last 24 h of a sparse schedule", async () => {
    const { note } = await slotsOf("nightly");
    expect(note).toMatch(/^The last 24 h, /);
    expect(note).toMatch(/: 1 planned slots in 1 ranges\./);
  });
});
