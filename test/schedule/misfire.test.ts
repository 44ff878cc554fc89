import { describe, expect, it } from "vitest";
import { droppedSlots, planFires } from "../../src/schedule/misfire.js";

const t0 = Date.parse("2026-01-01T00:00:00Z");
const at = (seconds: number) => new Date(t0 + seconds * 1000);

describe("planFires", () => {
  it("fires an on-time slot as a schedule run, whatever the policy", () => {
    for (const policy of ["none", "latest", "all"] as const) {
      expect(planFires([at(10)], t0 + 10_003, policy, 3600)).toEqual([
        { instant: at(10), trigger: "schedule" },
      ]);
    }
  });

  it("after a blocked event loop: none and latest drop the skipped slots, all catches each up", () => {
    const slots = [at(1), at(2), at(3), at(4), at(5)];
    const now = t0 + 5_010;
    expect(planFires(slots, now, "none", 3600)).toEqual([{ instant: at(5), trigger: "schedule" }]);
    expect(planFires(slots, now, "latest", 3600)).toEqual([{ instant: at(5), trigger: "schedule" }]);
    expect(planFires(slots, now, "all", 3600)).toEqual([
      ...[1, 2, 3, 4].map((s) => ({ instant: at(s), trigger: "catch-up" })),
      { instant: at(5), trigger: "schedule" },
    ]);
  });

  it("after downtime (every slot missed): latest runs the newest once, none runs nothing", () => {
    const slots = [at(60), at(120), at(180)];
    const now = t0 + 600_000;
    expect(planFires(slots, now, "none", 3600)).toEqual([]);
    expect(planFires(slots, now, "latest", 3600)).toEqual([{ instant: at(180), trigger: "catch-up" }]);
    expect(planFires(slots, now, "all", 3600).map((f) => f.trigger)).toEqual([
      "catch-up",
      "catch-up",
      "catch-up",
    ]);
  });

  it("never runs a slot older than the misfire grace", () => {
    const slots = [at(0), at(100), at(200)];
    const now = t0 + 250_000;
    expect(planFires(slots, now, "all", 120)).toEqual([{ instant: at(200), trigger: "catch-up" }]);
    expect(planFires(slots, now, "latest", 30)).toEqual([]);
  });

  it("droppedSlots names why each slot planFires left out was dropped (the slot ledger's reasons)", () => {
    const slots = [at(1), at(50), at(99), at(100)];
    const now = t0 + 100_010;
    for (const policy of ["none", "latest"] as const) {
      const fires = planFires(slots, now, policy, 60);
      expect(droppedSlots(slots, fires, now, policy, 60, "event loop blocked")).toEqual([
        { instant: at(1), reason: "outside misfireGraceSeconds (60s); missed: event loop blocked" },
        { instant: at(50), reason: `catchUp ${policy}; missed: event loop blocked` },
        { instant: at(99), reason: `catchUp ${policy}; missed: event loop blocked` },
      ]);
    }
    const all = planFires(slots, now, "all", 60);
    expect(droppedSlots(slots, all, now, "all", 60)).toEqual([
      { instant: at(1), reason: "outside misfireGraceSeconds (60s)" },
    ]);
  });
});
