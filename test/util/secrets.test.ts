import { describe, expect, it } from "vitest";
import { registerSecret, scrub, scrubValue } from "../../src/util/secrets.js";

describe("the one scrubber of secrets", () => {
  it("redacts a secret as is, percent-encoded and JSON-escaped, longest form first", () => {
    const secret = 'p@ss "w/rd"';
    const text = `a=${secret} url=?t=${encodeURIComponent(secret)} json=${JSON.stringify(secret)}`;
    expect(scrub(text, [secret])).toBe('a=[REDACTED] url=?t=[REDACTED] json="[REDACTED]"');
  });

  it("leaves values under 4 characters alone (they would blank out ordinary words)", () => {
    expect(scrub("the cat sat", ["cat"])).toBe("the cat sat");
  });

  it("scrubs every string inside a JSON-like value", () => {
    expect(scrubValue({ a: ["x hunter22 y", 3], b: { c: "hunter22" } }, ["hunter22"])).toEqual({
      a: ["x [REDACTED] y", 3],
      b: { c: "[REDACTED]" },
    });
  });

  it("uses the registered secrets by default", () => {
    registerSecret("registered-secret-value");
    expect(scrub("token registered-secret-value")).toBe("token [REDACTED]");
    expect(scrubValue({ t: "registered-secret-value" })).toEqual({ t: "[REDACTED]" });
  });
});
