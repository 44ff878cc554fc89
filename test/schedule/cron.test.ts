import { describe, expect, it } from "vitest";
import { instantsBetween, latestInstant, nextInstant, scheduleProblem } from "../../src/schedule/cron.js";

const next3 = (expr: string, tz: string, from: string) => {
  const out: string[] = [];
  let cursor = new Date(from);
  for (let i = 0; i < 3; i++) {
    cursor = nextInstant(expr, tz, cursor)!;
    out.push(cursor.toISOString());
  }
  return out;
};

describe("schedule maths", () => {
  it("answers the same for any order of questions (a remembered next instant is reused only where it holds)", () => {
    const at = (iso: string) => nextInstant("0 12 * * *", "UTC", new Date(iso))!.toISOString();
    expect(at("2026-03-10T13:00:00Z")).toBe("2026-03-11T12:00:00.000Z");
    // Before the remembered question, and exactly at an instant: not the remembered answer.
    expect(at("2026-03-10T11:00:00Z")).toBe("2026-03-10T12:00:00.000Z");
    expect(at("2026-03-10T12:00:00Z")).toBe("2026-03-11T12:00:00.000Z");
    expect(at("2026-03-11T11:59:59.999Z")).toBe("2026-03-11T12:00:00.000Z");
    expect(at("2026-03-11T12:00:00Z")).toBe("2026-03-12T12:00:00.000Z");
  });

  it("finds instants years apart (every pattern shares one year table)", () => {
    expect(next3("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z")).toEqual([
      "2028-02-29T00:00:00.000Z",
      "2032-02-29T00:00:00.000Z",
      "2036-02-29T00:00:00.000Z",
    ]);
    expect(scheduleProblem("0 0 30 2 *", "UTC")).toMatch(/never fires/);
  });

  it("accepts 5 and 6 fields and nicknames", () => {
    expect(scheduleProblem("*/5 * * * *", "UTC")).toBeUndefined();
    expect(scheduleProblem("30 */5 * * * *", "UTC")).toBeUndefined();
    for (const nickname of ["@daily", "@hourly", "@weekly", "@monthly", "@yearly"])
      expect(scheduleProblem(nickname, "UTC")).toBeUndefined();
  });

  it("explains what is wrong", () => {
    expect(scheduleProblem("61 * * * *", "UTC")).toBe(
      'invalid cron expression "61 * * * *": Invalid value for minute: 61',
    );
    expect(scheduleProblem("* * *", "UTC")).toMatch(/has 3 fields; expected 5/);
    expect(scheduleProblem("* * * * * * *", "UTC")).toMatch(/has 7 fields/);
    expect(scheduleProblem("* * * * *", "Mars/Olympus")).toMatch(/unknown time zone "Mars\/Olympus"/);
  });

  it("computes next instants in the job's time zone", () => {
    expect(next3("0 9 * * *", "America/New_York", "2026-01-10T00:00:00Z")).toEqual([
      "2026-01-10T14:00:00.000Z",
      "2026-01-11T14:00:00.000Z",
      "2026-01-12T14:00:00.000Z",
    ]);
  });

  it("DST autumn: a 02:30 daily job runs once on the day 02:30 happens twice (Europe/Berlin)", () => {
    // 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET.
    expect(next3("30 2 * * *", "Europe/Berlin", "2026-10-24T02:00:00Z")).toEqual([
      "2026-10-25T00:30:00.000Z", // 02:30 CEST, the first 02:30
      "2026-10-26T01:30:00.000Z", // 02:30 CET the next day: the second 02:30 of the 25th is not run
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  it("DST spring: a 02:30 daily job runs at 03:00 on the day 02:30 does not exist (America/New_York)", () => {
    // 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT.
    expect(next3("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z")).toEqual([
      "2026-03-08T07:00:00.000Z", // 03:00 EDT, the first valid time after the gap
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
      "2026-03-10T06:30:00.000Z",
    ]);
  });

  it("lists the slots in a window and the latest slot before a time", () => {
    const slots = instantsBetween(
      "*/10 * * * * *",
      "UTC",
      new Date("2026-01-01T00:00:00Z"),
      new Date("2026-01-01T00:00:35Z"),
    );
    expect(slots.map((d) => d.toISOString())).toEqual([
      "2026-01-01T00:00:10.000Z",
      "2026-01-01T00:00:20.000Z",
      "2026-01-01T00:00:30.000Z",
    ]);
    expect(latestInstant("0 3 * * *", "UTC", new Date("2026-01-02T02:00:00Z"))?.toISOString()).toBe(
      "2026-01-01T03:00:00.000Z",
    );
    expect(latestInstant("0 3 * * *", "UTC", new Date("2026-01-02T03:00:00Z"))?.toISOString()).toBe(
      "2026-01-02T03:00:00.000Z",
    );
  });

  it("finds an instant years away", () => {
    expect(nextInstant("0 0 29 2 *", "UTC", new Date("2026-03-01T00:00:00Z"))?.toISOString()).toBe(
      "2028-02-29T00:00:00.000Z",
    );
  });
});
