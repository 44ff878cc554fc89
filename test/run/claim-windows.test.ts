import { describe, expect, it } from "vitest";
import { CLAIM_WINDOW_MS, ClaimWindows } from "../../src/run/claim-windows.js";

describe("ClaimWindows: the moments after an instant that outcome writes wait out", () => {
  it("holds a write from the instant to 30 ms after it, and none before, after or between instants", () => {
    const windows = new ClaimWindows();
    const instant = 1_000_000;
    windows.note([instant], instant - 50); // claimed 50 ms ahead
    expect(windows.endAt(instant - 1)).toBeUndefined();
    expect(windows.endAt(instant)).toBe(instant + CLAIM_WINDOW_MS);
    expect(windows.endAt(instant + 29)).toBe(instant + CLAIM_WINDOW_MS);
    expect(windows.endAt(instant + 30)).toBeUndefined();
    expect(windows.endAt(instant + 500)).toBeUndefined();
  });

  it("ignores instants whose window is over (catch-up of old slots), and takes the later end of two that overlap", () => {
    const windows = new ClaimWindows();
    windows.note([5_000, 1_000_000], 1_000_000 - 10);
    expect(windows.endAt(5_010)).toBeUndefined();
    windows.note([1_000_020], 1_000_005);
    expect(windows.endAt(1_000_025)).toBe(1_000_020 + CLAIM_WINDOW_MS);
  });
});
