import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { dstPolicy, instantsBetween, latestInstant, nextInstant } from "../../src/schedule/cron.js";
import type { DstPolicy } from "../../src/types.js";

/** The instants of `expr` in (from, to] under `dst`, as ISO strings. */
const window = (expr: string, tz: string, dst: DstPolicy, from: string, to: string) =>
  instantsBetween(expr, tz, new Date(from), new Date(to), 1000, dst).map((d) => d.toISOString());

const REPEATED = ["first", "last", "both"] as const;
const SKIPPED = ["shift", "skip"] as const;
const POLICIES = REPEATED.flatMap((repeated) => SKIPPED.map((skipped) => ({ repeated, skipped })));

interface Day {
  zone: string;
  expr: string;
  from: string;
  to: string;
  /** By the policy field that decides that day. */
  expected: Record<string, string[]>;
}

// Fall back: a local time happens twice. Spring forward: a local time does not exist.
const fallDays: Day[] = [
  {
    zone: "Europe/Berlin", // 2026-10-25 03:00 CEST -> 02:00 CET
    expr: "30 2 * * *",
    from: "2026-10-24T12:00:00Z",
    to: "2026-10-25T12:00:00Z",
    expected: {
      first: ["2026-10-25T00:30:00.000Z"],
      last: ["2026-10-25T01:30:00.000Z"],
      both: ["2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"],
    },
  },
  {
    zone: "America/New_York", // 2026-11-01 02:00 EDT -> 01:00 EST
    expr: "30 1 * * *",
    from: "2026-10-31T12:00:00Z",
    to: "2026-11-01T12:00:00Z",
    expected: {
      first: ["2026-11-01T05:30:00.000Z"],
      last: ["2026-11-01T06:30:00.000Z"],
      both: ["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z"],
    },
  },
  {
    zone: "Australia/Lord_Howe", // 2026-04-05 02:00 +11 -> 01:30 +10:30: a 30-minute shift
    expr: "45 1 * * *",
    from: "2026-04-04T06:00:00Z",
    to: "2026-04-05T06:00:00Z",
    expected: {
      first: ["2026-04-04T14:45:00.000Z"],
      last: ["2026-04-04T15:15:00.000Z"],
      both: ["2026-04-04T14:45:00.000Z", "2026-04-04T15:15:00.000Z"],
    },
  },
];

const springDays: Day[] = [
  {
    zone: "Europe/Berlin", // 2026-03-29 02:00 CET -> 03:00 CEST
    expr: "30 2 * * *",
    from: "2026-03-28T12:00:00Z",
    to: "2026-03-29T12:00:00Z",
    expected: { shift: ["2026-03-29T01:00:00.000Z"], skip: [] },
  },
  {
    zone: "America/New_York", // 2026-03-08 02:00 EST -> 03:00 EDT
    expr: "30 2 * * *",
    from: "2026-03-07T12:00:00Z",
    to: "2026-03-08T12:00:00Z",
    expected: { shift: ["2026-03-08T07:00:00.000Z"], skip: [] },
  },
  {
    zone: "Australia/Lord_Howe", // 2026-10-04 02:00 +10:30 -> 02:30 +11
    expr: "15 2 * * *",
    from: "2026-10-03T06:00:00Z",
    to: "2026-10-04T06:00:00Z",
    expected: { shift: ["2026-10-03T15:30:00.000Z"], skip: [] },
  },
];

describe("DST by policy: a fixed-time job on both transition days", () => {
  for (const policy of POLICIES) {
    const name = `repeated=${policy.repeated} skipped=${policy.skipped}`;
    it.each(fallDays)(`${name}: $zone, the day $expr happens twice`, (day) => {
      expect(window(day.expr, day.zone, policy, day.from, day.to)).toEqual(day.expected[policy.repeated]);
    });
    it.each(springDays)(`${name}: $zone, the day $expr does not exist`, (day) => {
      expect(window(day.expr, day.zone, policy, day.from, day.to)).toEqual(day.expected[policy.skipped]);
    });
    it(`${name}: Asia/Tokyo has no DST, so nothing changes on Berlin's transition days`, () => {
      for (const [from, to, at] of [
        ["2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", "2026-03-28T17:30:00.000Z"],
        ["2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", "2026-10-24T17:30:00.000Z"],
      ])
        expect(window("30 2 * * *", "Asia/Tokyo", policy, from!, to!)).toEqual([at]);
    });
  }
});

describe("DST by policy: an interval job", () => {
  const berlin = (dst: DstPolicy, from: string, to: string) =>
    window("0,30 * * * *", "Europe/Berlin", dst, from, to);
  it("repeated hour: first runs it once, last runs the second pass, both runs both", () => {
    const fall = (repeated: DstPolicy["repeated"]) =>
      berlin({ repeated, skipped: "skip" }, "2026-10-24T23:15:00Z", "2026-10-25T02:00:00Z");
    expect(fall("first")).toEqual([
      "2026-10-24T23:30:00.000Z", // 01:30 CEST
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T02:00:00.000Z", // 03:00 CET: 02:00 and 02:30 CET are not run again
    ]);
    expect(fall("last")).toEqual([
      "2026-10-24T23:30:00.000Z",
      "2026-10-25T01:00:00.000Z", // 02:00 CET
      "2026-10-25T01:30:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
    expect(fall("both")).toHaveLength(6);
  });

  it("skipped hour: shift meets at 03:00 once, Lord Howe's 30-minute gap too", () => {
    expect(
      berlin({ repeated: "both", skipped: "shift" }, "2026-03-29T00:15:00Z", "2026-03-29T01:45:00Z"),
    ).toEqual([
      "2026-03-29T00:30:00.000Z", // 01:30 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: 02:00 and 02:30 meet here, with 03:00 itself
      "2026-03-29T01:30:00.000Z",
    ]);
    const lordHowe = (skipped: DstPolicy["skipped"]) =>
      window(
        "*/10 2 * * *",
        "Australia/Lord_Howe",
        { repeated: "both", skipped },
        "2026-10-03T15:00:00Z",
        "2026-10-03T16:00:00Z",
      );
    // 02:00-02:29 do not exist; 02:30 is the first local time after the gap.
    expect(lordHowe("shift")).toEqual([
      "2026-10-03T15:30:00.000Z",
      "2026-10-03T15:40:00.000Z",
      "2026-10-03T15:50:00.000Z",
    ]);
    expect(lordHowe("skip")).toEqual(lordHowe("shift"));
    expect(
      window(
        "20 2 * * *",
        "Australia/Lord_Howe",
        { repeated: "both", skipped: "skip" },
        "2026-10-03T06:00:00Z",
        "2026-10-04T06:00:00Z",
      ),
    ).toEqual([]);
  });
});

describe("DST defaults and consistency", () => {
  it("without a policy: first/shift for a fixed-time schedule, both/skip for an interval one", () => {
    expect(dstPolicy("30 2 * * *")).toEqual({ repeated: "first", skipped: "shift" });
    expect(dstPolicy("@daily")).toEqual({ repeated: "first", skipped: "shift" });
    expect(dstPolicy("*/5 * * * *")).toEqual({ repeated: "both", skipped: "skip" });
    expect(dstPolicy("0 30 1,2 * * *")).toEqual({ repeated: "both", skipped: "skip" });
    expect(dstPolicy("@hourly", { repeated: "last" })).toEqual({ repeated: "last", skipped: "skip" });
  });

  it("the defaults keep today's behaviour: the same instants croner computes on transition days", () => {
    const expressions = [
      "30 2 * * *",
      "0 2 * * *",
      "45 1 * * *",
      "0,30 * * * *",
      "*/15 1-3 * * *",
      "0 * * * *",
      "@daily",
      "15 30 2 * * *",
    ];
    const zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo"];
    const starts = [
      "2026-03-07T00:00:00Z",
      "2026-03-28T00:00:00Z",
      "2026-04-03T00:00:00Z",
      "2026-10-02T00:00:00Z",
      "2026-10-24T00:00:00Z",
      "2026-10-31T00:00:00Z",
    ];
    for (const expr of expressions)
      for (const zone of zones)
        for (const start of starts) {
          const croner = new Cron(expr, { timezone: zone, paused: true });
          const ours: string[] = [];
          const theirs: string[] = [];
          let a: Date | null = new Date(start);
          let b: Date | null = new Date(start);
          for (let i = 0; i < 40 && a && b; i++) {
            a = nextInstant(expr, zone, a);
            b = croner.nextRun(b);
            ours.push(a?.toISOString() ?? "none");
            theirs.push(b?.toISOString() ?? "none");
          }
          expect(ours, `${expr} in ${zone} from ${start}`).toEqual(theirs);
        }
  });

  it("latestInstant and nextInstant agree under every policy, across both transitions", () => {
    for (const policy of POLICIES)
      for (const [expr, zone, from] of [
        ["30 2 * * *", "Europe/Berlin", "2026-10-23T00:00:00Z"],
        ["*/20 * * * *", "Europe/Berlin", "2026-10-24T22:00:00Z"],
        ["*/20 * * * *", "America/New_York", "2026-03-08T05:00:00Z"],
        ["15 2 * * *", "Australia/Lord_Howe", "2026-10-02T00:00:00Z"],
        ["*/15 1,2 * * *", "Australia/Lord_Howe", "2026-04-04T10:00:00Z"],
      ] as const) {
        let previous: Date | null = null;
        let cursor = new Date(from);
        for (let i = 0; i < 20; i++) {
          const at = nextInstant(expr, zone, cursor, policy)!;
          const where = `${expr} ${zone} ${JSON.stringify(policy)} at ${at.toISOString()}`;
          expect(latestInstant(expr, zone, at, policy)?.toISOString(), where).toBe(at.toISOString());
          expect(nextInstant(expr, zone, new Date(at.getTime() - 1), policy)?.toISOString(), where).toBe(
            at.toISOString(),
          );
          if (previous)
            expect(latestInstant(expr, zone, new Date(at.getTime() - 1), policy)?.toISOString(), where).toBe(
              previous.toISOString(),
            );
          previous = at;
          cursor = at;
        }
      }
  });
});
