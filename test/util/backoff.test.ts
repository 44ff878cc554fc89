import { describe, expect, it } from "vitest";
import { retryDelay } from "../../src/util/backoff.js";
import { formatDuration, parseDuration } from "../../src/util/duration.js";

describe("retryDelay", () => {
  const options = { attempts: 5, backoff: "exponential" as const, initialMs: 1000, maxMs: 5000 };
  it("doubles from the initial delay and stops at the maximum", () => {
    expect([2, 3, 4, 5].map((attempt) => retryDelay(options, attempt))).toEqual([1000, 2000, 4000, 5000]);
  });
  it("keeps a fixed delay when asked", () => {
    expect([2, 3, 4].map((attempt) => retryDelay({ ...options, backoff: "fixed" }, attempt))).toEqual([
      1000, 1000, 1000,
    ]);
  });
});

describe("durations", () => {
  it("parses the units people write", () => {
    expect(["250ms", "30s", "10m", "1h", "2d", "1.5s", 1500].map((v) => parseDuration(v))).toEqual([
      250, 30_000, 600_000, 3_600_000, 172_800_000, 1500, 1500,
    ]);
  });
  it("returns undefined for what is not a duration", () => {
    expect(["", "10", "ten minutes", "-1s", "5 weeks"].map((v) => parseDuration(v))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(parseDuration(-5)).toBeUndefined();
  });
  it("formats for people", () => {
    expect([500, 90_000, 3_661_000].map(formatDuration)).toEqual(["500ms", "1m30s", "1h1m1s"]);
  });
});
