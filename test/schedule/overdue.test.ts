import { describe, expect, it } from "vitest";
import { OverdueClock } from "../../src/schedule/overdue.js";
import type { JobInput } from "../../src/types.js";
import { job } from "../helpers/jobs.js";

const at = (iso: string) => new Date(iso);
const check = (
  input: Partial<JobInput> & { name: string },
  now: string,
  lastSuccessAt: string | null,
  firstSeenAt: string | null = null,
) => {
  const result = new OverdueClock().overdue(
    job(input),
    {
      lastSuccessAt: lastSuccessAt ? at(lastSuccessAt) : null,
      firstSeenAt: firstSeenAt ? at(firstSeenAt) : null,
    },
    at(now).getTime(),
  );
  return { expected: result.expectedLastRunAt?.toISOString() ?? null, overdue: result.overdueSeconds };
};

// Grace = misfireGraceSeconds + timeout: when the slot should have succeeded at the latest.
const perSecond = { name: "tick", schedule: "* * * * * *", misfireGraceSeconds: 50, timeout: "10s" };
const daily = {
  name: "nightly",
  schedule: "0 3 * * *",
  timezone: "Europe/Berlin",
  misfireGraceSeconds: 3600,
  timeout: "1h",
};
const weekly = { name: "backup", schedule: "0 4 * * 0", misfireGraceSeconds: 3600, timeout: "1h" };

describe("overdue from the schedule", () => {
  it("a per-second job: on track while it succeeds, then overdue from the first slot after its last success", () => {
    expect(check(perSecond, "2026-06-01T12:00:00Z", "2026-06-01T11:59:59.500Z")).toEqual({
      expected: "2026-06-01T11:59:00.000Z",
      overdue: 0,
    });
    // Last success 11:50:00.2: the 11:50:01 slot should have succeeded by 11:51:01.
    expect(check(perSecond, "2026-06-01T12:00:00Z", "2026-06-01T11:50:00.200Z")).toEqual({
      expected: "2026-06-01T11:59:00.000Z",
      overdue: 539,
    });
  });

  it("a daily job (Europe/Berlin 03:00): the grace covers the run; a missed day counts from that slot's grace", () => {
    // 2026-06-02 03:00 CEST = 01:00Z; grace 2 h, so it is expected by 03:00Z.
    expect(check(daily, "2026-06-02T02:30:00Z", "2026-06-01T01:05:00Z")).toEqual({
      expected: "2026-06-01T01:00:00.000Z",
      overdue: 0,
    });
    expect(check(daily, "2026-06-02T04:00:00Z", "2026-06-01T01:05:00Z")).toEqual({
      expected: "2026-06-02T01:00:00.000Z",
      overdue: 3600,
    });
    // Two days without a success: overdue keeps growing from the first missed slot.
    expect(check(daily, "2026-06-03T04:00:00Z", "2026-06-01T01:05:00Z").overdue).toBe(86_400 + 3600);
  });

  it("a weekly job: six days after its run it is on track; a week and a day later it is a day overdue", () => {
    // 2026-06-07 is a Sunday.
    expect(check(weekly, "2026-06-13T12:00:00Z", "2026-06-07T04:10:00Z")).toEqual({
      expected: "2026-06-07T04:00:00.000Z",
      overdue: 0,
    });
    expect(check(weekly, "2026-06-15T06:00:00Z", "2026-06-07T04:10:00Z")).toEqual({
      expected: "2026-06-14T04:00:00.000Z",
      overdue: 86_400,
    });
  });

  it("a job that never succeeded owes nothing from before it was first seen; a disabled job is never overdue", () => {
    expect(check(daily, "2026-06-02T04:00:00Z", null, "2026-06-02T02:00:00Z").overdue).toBe(0);
    expect(check(daily, "2026-06-02T04:00:00Z", null, "2026-06-01T12:00:00Z").overdue).toBe(3600);
    expect(check({ ...daily, enabled: false }, "2026-06-02T04:00:00Z", null)).toEqual({
      expected: null,
      overdue: 0,
    });
  });

  it("one clock answers for any time, earlier ones too (its memo is per schedule and instant)", () => {
    const clock = new OverdueClock();
    const tick = job(perSecond);
    const state = { lastSuccessAt: at("2026-06-01T11:50:00.200Z"), firstSeenAt: null };
    expect(clock.overdue(tick, state, at("2026-06-01T12:00:00Z").getTime()).overdueSeconds).toBe(539);
    expect(clock.overdue(tick, state, at("2026-06-01T11:55:00Z").getTime()).overdueSeconds).toBe(239);
    expect(clock.overdue(tick, state, at("2026-06-01T12:00:00.500Z").getTime()).overdueSeconds).toBe(539.5);
  });
});
