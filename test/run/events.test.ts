import { describe, expect, it } from "vitest";
import { RunEventBus } from "../../src/run/events.js";
import { job } from "../helpers/jobs.js";

describe("RunEventBus", () => {
  it("calls every listener even when one throws, and reports the error", () => {
    const bus = new RunEventBus();
    const errors: string[] = [];
    const seen: string[] = [];
    bus.onListenerError = (event, error) => errors.push(`${event}: ${(error as Error).message}`);
    bus.on("skipped", () => {
      throw new Error("metrics broke");
    });
    bus.on("skipped", (skip) => seen.push(skip.job.name));
    expect(() =>
      bus.emit("skipped", { runId: "1", job: job({ name: "a" }), scheduledFor: null, reason: "x" }),
    ).not.toThrow();
    expect(seen).toEqual(["a"]);
    expect(errors).toEqual(["skipped: metrics broke"]);
  });
});
