import { describe, expect, it } from "vitest";
import { callHandler, RunAbort, RunController, settleCall } from "../../src/run/invoke.js";
import { context } from "../helpers/context.js";

const settle = (handler: () => unknown, controller = new RunController(), timeoutMs = 1000) =>
  settleCall(callHandler(handler, context()), controller, timeoutMs);

describe("RunController", () => {
  it("makes its signal only when read, already aborted with the reason when read late", () => {
    const controller = new RunController();
    const reason = new RunAbort("cancel", "job cancelled");
    controller.abort(reason);
    controller.abort(new Error("second abort is ignored"));
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(reason);
  });

  it("aborts a signal read before the abort", () => {
    const controller = new RunController();
    const { signal } = controller;
    expect(signal.aborted).toBe(false);
    controller.abort(new RunAbort("shutdown", "stopping"));
    expect(signal.aborted).toBe(true);
  });
});

describe("callHandler and settleCall", () => {
  it("calls the handler at once and settles its value, promised or not", async () => {
    let called = false;
    const call = callHandler(() => {
      called = true;
      return { n: 1 };
    }, context());
    expect(called).toBe(true);
    expect(await settleCall(call, new RunController(), 1000)).toMatchObject({
      status: "succeeded",
      result: { n: 1 },
    });
    expect(await settle(async () => "done")).toMatchObject({ status: "succeeded", result: "done" });
  });

  it("records a handler that throws, at once or later, as failed", async () => {
    const thrown = await settle(() => {
      throw new Error("boom");
    });
    expect(thrown).toMatchObject({ status: "failed", error: "boom" });
    expect(thrown.errorStack).toContain("boom");
    expect(await settle(() => Promise.reject(new Error("later")))).toMatchObject({
      status: "failed",
      error: "later",
    });
  });

  it("times out a handler that never settles, and aborts its signal with a timeout reason", async () => {
    const controller = new RunController();
    const outcome = await settle(() => new Promise(() => {}), controller, 20);
    expect(outcome).toMatchObject({ status: "timed_out", error: "timed out after 20 ms" });
    expect(controller.signal.reason).toBeInstanceOf(RunAbort);
    expect((controller.signal.reason as RunAbort).kind).toBe("timeout");
  });

  it("settles interrupted when aborted before or while the handler runs", async () => {
    const early = new RunController();
    early.abort(new RunAbort("shutdown", "stopping"));
    expect(await settle(() => new Promise(() => {}), early)).toMatchObject({
      status: "interrupted",
      error: "stopping",
    });
    const later = new RunController();
    const pending = settle(() => new Promise(() => {}), later);
    later.abort(new RunAbort("cancel", "job cancelled"));
    expect(await pending).toMatchObject({ status: "interrupted", error: "job cancelled" });
  });
});
