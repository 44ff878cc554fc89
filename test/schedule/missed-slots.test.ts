import { describe, expect, it } from "vitest";
import { MissedSlots } from "../../src/schedule/missed-slots.js";
import { job } from "../helpers/jobs.js";

const t0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000);
const known = () => true;

describe("MissedSlots (slots whose claim failed while the database was away)", () => {
  it("latest keeps only the newest missed slot and runs it once as catch-up", () => {
    const missed = new MissedSlots();
    const latest = job({ name: "l", schedule: "* * * * * *", catchUp: "latest" });
    for (let s = 1; s <= 30; s++) missed.remember(latest, at(s));
    expect(missed.drain(t0 + 40_000, known)).toEqual([{ job: latest, instant: at(30), trigger: "catch-up" }]);
    expect(missed.drain(t0 + 41_000, known)).toEqual([]);
  });

  it("latest still runs the newest missed slot after a newer slot ran on time (README's promise)", () => {
    const missed = new MissedSlots();
    const latest = job({ name: "l", schedule: "* * * * *" });
    missed.remember(latest, at(60));
    // The slot at 120 s was claimed on time before this drain: it was never missed.
    expect(missed.drain(t0 + 130_000, known)).toEqual([
      { job: latest, instant: at(60), trigger: "catch-up" },
    ]);
  });

  it("all runs every missed slot within the grace, and remembers at most 1,000", () => {
    const missed = new MissedSlots();
    const all = job({ name: "a", schedule: "* * * * * *", catchUp: "all", misfireGraceSeconds: 86_400 });
    for (let s = 1; s <= 1500; s++) missed.remember(all, at(s));
    const fires = missed.drain(t0 + 1_600_000, known);
    expect(fires).toHaveLength(1000);
    expect(fires[0]!.instant).toEqual(at(501));
    expect(fires.every((f) => f.trigger === "catch-up")).toBe(true);
  });

  it("none remembers nothing, and a cancelled job's slots are dropped", () => {
    const missed = new MissedSlots();
    missed.remember(job({ name: "n", catchUp: "none" }), at(1));
    missed.remember(job({ name: "gone" }), at(1));
    expect(missed.drain(t0 + 5000, (name) => name !== "gone")).toEqual([]);
  });

  it("at start, remembers only slots after the job was first seen", () => {
    const missed = new MissedSlots();
    const all = job({ name: "a", schedule: "* * * * *", catchUp: "all" });
    missed.rememberSinceLastRun(all, new Date(t0 + 150_000), new Date(t0 + 600_000));
    expect(missed.drain(t0 + 600_000, known).map((f) => f.instant)).toEqual(
      [180, 240, 300, 360, 420, 480, 540, 600].map(at),
    );
  });

  it("tells the slot ledger of every slot it gives up, and why", () => {
    const dropped: string[] = [];
    const missed = new MissedSlots((j, instant, reason) =>
      dropped.push(`${j.name} ${(instant.getTime() - t0) / 1000} ${reason}`),
    );
    const latest = job({ name: "l", schedule: "* * * * * *", catchUp: "latest" });
    const all = job({ name: "a", schedule: "* * * * * *", catchUp: "all", misfireGraceSeconds: 5 });
    for (const s of [1, 2, 3]) missed.remember(latest, at(s));
    for (const s of [1, 8]) missed.remember(all, at(s));
    expect(
      missed.drain(t0 + 10_000, known).map((f) => `${f.job.name} ${(f.instant.getTime() - t0) / 1000}`),
    ).toEqual(["l 3", "a 8"]);
    expect(dropped).toEqual([
      "l 1 catchUp latest (a newer missed slot replaced it)",
      "l 2 catchUp latest (a newer missed slot replaced it)",
      "a 1 outside misfireGraceSeconds (5s)",
    ]);
  });
});
