import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DueJob, MAX_TIMER_MS, Scheduler } from "../../src/schedule/scheduler.js";
import { job } from "../helpers/jobs.js";

const iso = (d: Date) => d.toISOString();

describe("Scheduler (fake clock)", () => {
  let batches: { due: DueJob[]; now: number }[];
  let scheduler: Scheduler;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00.200Z") });
    batches = [];
    scheduler = new Scheduler((due, now) => batches.push({ due, now }));
  });
  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  it("fires jobs due at the same instant together, in one batch", () => {
    for (const name of ["a", "b", "c"]) scheduler.add(job({ name, schedule: "* * * * * *" }));
    scheduler.add(job({ name: "d", schedule: "*/2 * * * * *" }));
    scheduler.start();
    vi.advanceTimersByTime(800);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.due.map((d) => d.job.name).sort()).toEqual(["a", "b", "c"]);
    expect(batches[0]!.due[0]!.slots.map(iso)).toEqual(["2026-01-01T00:00:01.000Z"]);
    vi.advanceTimersByTime(1000);
    expect(batches[1]!.due.map((d) => d.job.name).sort()).toEqual(["a", "b", "c", "d"]);
  });

  it("keeps a single timer armed for all jobs", () => {
    for (let i = 0; i < 100; i++) scheduler.add(job({ name: `job-${i}`, schedule: `${i % 60} * * * *` }));
    scheduler.start();
    expect(vi.getTimerCount()).toBe(1);
  });

  it("reports every slot that passed while the process could not wake", () => {
    scheduler.add(job({ name: "tick", schedule: "* * * * * *" }));
    scheduler.start();
    // The event loop is blocked: the clock moves 5 s but no timer runs until afterwards.
    vi.setSystemTime(new Date("2026-01-01T00:00:04.700Z"));
    vi.advanceTimersByTime(800);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.due[0]!.slots.map(iso)).toEqual(
      [1, 2, 3, 4, 5].map((s) => `2026-01-01T00:00:0${s}.000Z`),
    );
    expect(scheduler.nextRunAt("tick")?.toISOString()).toBe("2026-01-01T00:00:06.000Z");
  });

  it("wakes at most every 30 s, so instants beyond setTimeout's 24.8-day limit still fire", () => {
    scheduler.add(job({ name: "yearly", schedule: "0 0 1 3 *" }));
    scheduler.start();
    const fireAt = Date.parse("2026-03-01T00:00:00Z");
    expect(scheduler.nextRunAt("yearly")?.getTime()).toBe(fireAt);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(batches).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(fireAt - Date.now());
    expect(batches).toHaveLength(1);
    expect(batches[0]!.due[0]!.slots.map(iso)).toEqual(["2026-03-01T00:00:00.000Z"]);
  });

  it("forgets a removed job and honours a re-added one", () => {
    scheduler.add(job({ name: "a", schedule: "* * * * * *" }));
    scheduler.start();
    scheduler.remove("a");
    vi.advanceTimersByTime(3000);
    expect(batches).toHaveLength(0);
    scheduler.add(job({ name: "a", schedule: "* * * * * *" }));
    vi.advanceTimersByTime(1000);
    expect(batches).toHaveLength(1);
  });

  it("does not schedule disabled jobs", () => {
    scheduler.add(job({ name: "off", schedule: "* * * * * *", enabled: false }));
    scheduler.start();
    vi.advanceTimersByTime(5000);
    expect(batches).toHaveLength(0);
    expect(scheduler.nextRunAt("off")).toBeUndefined();
  });

  it("does nothing once stopped", () => {
    scheduler.add(job({ name: "a", schedule: "* * * * * *" }));
    scheduler.start();
    scheduler.stop();
    vi.advanceTimersByTime(5000);
    expect(batches).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("DST with a fake clock: a 02:30 Europe/Berlin job fires once on the autumn day, and at 03:00 on the spring day", () => {
    vi.setSystemTime(new Date("2026-10-24T12:00:00Z"));
    scheduler.add(job({ name: "berlin", schedule: "30 2 * * *", timezone: "Europe/Berlin" }));
    scheduler.start();
    vi.advanceTimersByTime(3 * 86_400_000);
    const fired = batches.flatMap((b) => b.due.flatMap((d) => d.slots.map(iso)));
    // 25 October has two 02:30s (CEST, then CET): one run, at the first.
    expect(fired).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);

    batches.length = 0;
    scheduler.stop();
    vi.setSystemTime(new Date("2027-03-27T12:00:00Z"));
    scheduler.add(job({ name: "berlin", schedule: "30 2 * * *", timezone: "Europe/Berlin" }));
    scheduler.start();
    vi.advanceTimersByTime(2 * 86_400_000);
    // 28 March 2027 has no 02:30 (02:00 CET jumps to 03:00 CEST): it runs at 03:00 CEST = 01:00Z.
    expect(batches.flatMap((b) => b.due.flatMap((d) => d.slots.map(iso)))).toEqual([
      "2027-03-28T01:00:00.000Z",
      "2027-03-29T00:30:00.000Z",
    ]);
  });
});
