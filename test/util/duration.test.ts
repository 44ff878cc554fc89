import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/util/duration.js";

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
