import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCodeJob } from "../../src/jobs/schema.js";
import { type DueJob, Scheduler } from "../../src/schedule/scheduler.js";
import { job } from "../helpers/jobs.js";

describe("a job's dst option", () => {
  afterEach(() => vi.useRealTimers());

  it("is filled in from the schedule and refused, naming the field, when wrong", () => {
    expect(job({ name: "a", schedule: "30 2 * * *" }).dst).toEqual({ repeated: "first", skipped: "shift" });
    expect(job({ name: "b", schedule: "*/5 * * * *" }).dst).toEqual({ repeated: "both", skipped: "skip" });
    expect(job({ name: "c", schedule: "30 2 * * *", dst: { skipped: "skip" } }).dst).toEqual({
      repeated: "first",
      skipped: "skip",
    });
    const bad = parseCodeJob(
      { name: "d", schedule: "30 2 * * *", dst: { repeated: "twice", later: true }, run: () => {} },
      "jobs.mjs",
      "code",
    );
    expect(bad.problems).toEqual([
      expect.stringMatching(/^jobs\.mjs "d": dst\.repeated: .*"first"\|"last"\|"both"/),
      expect.stringMatching(/^jobs\.mjs "d": dst: Unrecognized key: "later"/),
    ]);
  });

  it("drives the scheduler (fake clock): repeated=both fires both 02:30s of Berlin's autumn day", () => {
    vi.useFakeTimers({ now: new Date("2026-10-24T12:00:00Z") });
    const fired: string[] = [];
    const scheduler = new Scheduler((due: DueJob[]) => {
      for (const d of due) fired.push(...d.slots.map((s) => s.toISOString()));
    });
    scheduler.add(
      job({ name: "both", schedule: "30 2 * * *", timezone: "Europe/Berlin", dst: { repeated: "both" } }),
    );
    scheduler.start();
    vi.advanceTimersByTime(2 * 86_400_000);
    scheduler.stop();
    expect(fired).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });
});
