import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DueJob, MAX_TIMER_MS, Scheduler } from "../../src/scheduler.js";
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
});
