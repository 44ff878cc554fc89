import pino from "pino";
import type { Sql } from "postgres";
import { describe, expect, it } from "vitest";
import { outputOf } from "../../src/run/capture.js";
import { jobContext } from "../../src/run/context.js";
import { RunEventBus } from "../../src/run/events.js";
import { RunController } from "../../src/run/invoke.js";
import { job } from "../helpers/jobs.js";

/** A ctx as the executor makes it, for a run of `scheduledFor` (null: a manual run). */
function contextOf(scheduledFor: Date | null, events = new RunEventBus()) {
  const run = {
    runId: "42",
    job: job({ name: "ctx-job" }),
    trigger: scheduledFor ? ("schedule" as const) : ("manual" as const),
    attempt: 1,
    scheduledFor,
    startedAt: new Date(),
    params: { region: "eu" },
    controller: new RunController(),
  };
  const sql = {} as Sql;
  return { ctx: jobContext(run, { sql, log: pino({ level: "silent" }), events }), run, sql };
}

describe("the ctx a handler receives", () => {
  it("carries the run's fields, its key and token, and made-on-read parts that still work destructured", () => {
    const events = new RunEventBus();
    const progress: unknown[] = [];
    const output: unknown[] = [];
    events.on("progress", (p) => progress.push([p.runId, p.done, p.total]));
    events.on("output", (o) => output.push([o.runId, o.stream, o.line]));
    const slot = new Date("2026-03-29T01:30:00Z");
    const { ctx, run, sql } = contextOf(slot, events);
    expect(ctx).toMatchObject({
      runId: "42",
      jobName: "ctx-job",
      scheduledFor: slot,
      attempt: 1,
      trigger: "schedule",
      params: { region: "eu" },
      fencingToken: 42,
      idempotencyKey: "ctx-job@2026-03-29T01:30:00.000Z",
    });
    expect(ctx.sql).toBe(sql);
    // `const { progress, signal } = ctx` is how handlers are written.
    const { progress: report, signal } = ctx;
    report(3, 10);
    expect(progress).toEqual([["42", 3, 10]]);
    expect(signal.aborted).toBe(false);
    run.controller.abort(new Error("stop"));
    expect(signal.aborted).toBe(true);
    expect(ctx.log).toBe(ctx.log); // one child logger per run
    outputOf(ctx)?.("stdout", "hello");
    expect(output).toEqual([["42", "stdout", "hello"]]);
  });

  it("a run without a slot keys on its run id", () => {
    expect(contextOf(null).ctx.idempotencyKey).toBe("42");
  });
});
