import { describe, expect, it } from "vitest";
import { dstPolicy } from "../../src/schedule/cron.js";
import { transitionDays, upcoming } from "../../src/schedule/explain.js";
import type { DstPolicy } from "../../src/types.js";

const simulate = (expr: string, tz: string, from: string, dst: Partial<DstPolicy> = {}) => {
  const policy = dstPolicy(expr, dst);
  return {
    next: (n: number) => upcoming(expr, tz, policy, new Date(from), n),
    days: () => transitionDays(expr, tz, policy, new Date(from)),
  };
};

/** policy -> the local times of its instants (or "N instants" when there are many). */
const outcomes = (day: ReturnType<typeof transitionDays>[number]) =>
  Object.fromEntries(
    day.outcomes.map((o) => [
      `${o.policy}${o.chosen ? "*" : ""}`,
      o.count > o.instants.length ? `${o.count} instants` : o.instants.map((i) => i.local),
    ]),
  );

describe("the schedule simulator (runner explain --next)", () => {
  it("Europe/Berlin 02:30 daily: the shifted instant has its note; both transition days by policy", () => {
    const berlin = simulate("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z");
    expect(berlin.next(3)).toEqual([
      { at: new Date("2026-03-28T01:30:00Z"), local: "2026-03-28 02:30:00 +01:00", note: null },
      {
        at: new Date("2026-03-29T01:00:00Z"),
        local: "2026-03-29 03:00:00 +02:00",
        note: "02:30:00 does not exist (clocks jump 02:00 +01:00 -> 03:00 +02:00): skipped=shift runs it here, once",
      },
      { at: new Date("2026-03-30T00:30:00Z"), local: "2026-03-30 02:30:00 +02:00", note: null },
    ]);
    const [spring, autumn] = berlin.days();
    expect(spring).toMatchObject({
      kind: "skipped",
      span: "02:00:00–02:59:59",
      named: { count: 1, times: ["02:30:00"] },
    });
    expect(outcomes(spring!)).toEqual({ "shift*": ["2026-03-29 03:00:00 +02:00"], skip: [] });
    expect(autumn).toMatchObject({
      kind: "repeated",
      change: "03:00 +02:00 -> 02:00 +01:00",
      span: "02:00:00–02:59:59",
    });
    expect(outcomes(autumn!)).toEqual({
      "first*": ["2026-10-25 02:30:00 +02:00"],
      last: ["2026-10-25 02:30:00 +01:00"],
      both: ["2026-10-25 02:30:00 +02:00", "2026-10-25 02:30:00 +01:00"],
    });
  });

  it("Australia/Lord_Howe: notes each pass through the repeated half hour, and the 30-minute gap", () => {
    const lordHowe = simulate("*/20 * * * *", "Australia/Lord_Howe", "2026-04-04T14:30:00Z");
    expect(lordHowe.next(3).map((i) => [i.local, i.note])).toEqual([
      [
        "2026-04-05 01:40:00 +11:00",
        "01:40:00 happens twice (clocks go back 02:00 +11:00 -> 01:30 +10:30): the first pass, run under repeated=both",
      ],
      [
        "2026-04-05 01:40:00 +10:30",
        "01:40:00 happens twice (clocks go back 02:00 +11:00 -> 01:30 +10:30): the second pass, run under repeated=both",
      ],
      ["2026-04-05 02:00:00 +10:30", null],
    ]);
    const [autumn, spring] = lordHowe.days();
    expect(autumn).toMatchObject({ span: "01:30:00–01:59:59", named: { times: ["01:40:00"] } });
    expect(outcomes(spring!)).toEqual({ shift: ["2026-10-04 02:30:00 +11:00"], "skip*": [] });
    expect(spring!.named.times).toEqual(["02:00:00", "02:20:00"]);
  });

  it("America/New_York every second: a repeated hour is 3600 instants per pass; a job's own policy is marked", () => {
    const ny = simulate("* * * * * *", "America/New_York", "2026-10-31T00:00:00Z", { repeated: "last" });
    const [autumn] = ny.days();
    expect(autumn!.named.count).toBe(3600);
    expect(outcomes(autumn!)).toEqual({
      first: "3600 instants",
      "last*": "3600 instants",
      both: "7200 instants",
    });
    expect(autumn!.outcomes[1]!.last?.local).toBe("2026-11-01 01:59:59 -05:00");
  });

  it("a time the transition does not touch, and a zone without DST, change nothing", () => {
    const [spring] = simulate("0 9 * * *", "Europe/Berlin", "2026-03-01T00:00:00Z").days();
    expect(spring!.named.count).toBe(0);
    expect(spring!.outcomes.every((o) => o.count === 0)).toBe(true);
    const tokyo = simulate("30 2 * * *", "Asia/Tokyo", "2026-03-01T00:00:00Z");
    expect(tokyo.days()).toEqual([]);
    expect(tokyo.next(400).filter((i) => i.note !== null)).toEqual([]);
  });
});
