import { describe, expect, it } from "vitest";
import { ClaimLead } from "../../src/schedule/claim-lead.js";

describe("ClaimLead", () => {
  it("grows with the jobs due together, within 50 ms and 2 s", () => {
    const lead = new ClaimLead();
    expect(lead.for(1)).toBe(50);
    expect(lead.for(10_000)).toBeGreaterThan(lead.for(1000));
    expect(lead.for(1_000_000)).toBe(2000);
  });

  it("learns the cost of a claimed slot, keeping a threefold margin", () => {
    const lead = new ClaimLead();
    for (let i = 0; i < 20; i++) lead.observe(250, 10_000);
    // 25 µs a slot: 10,000 slots claim in 250 ms, so the lead is about 3 × 255 ms.
    expect(lead.for(10_000)).toBeGreaterThan(700);
    expect(lead.for(10_000)).toBeLessThan(800);
  });
});
