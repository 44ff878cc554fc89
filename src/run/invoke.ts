import { errorMessage } from "../errors.js";
import type { JobContext, JobHandler, RunOutcome } from "../types.js";
import { scrub } from "../util/secrets.js";

/** Why a run's signal was aborted. */
export class RunAbort extends Error {
  constructor(
    readonly kind: "timeout" | "shutdown" | "cancel",
    message: string,
  ) {
    super(message);
    this.name = kind === "timeout" ? "TimeoutError" : "AbortError";
  }
}

const MAX_RESULT_BYTES = 16 * 1024;

/** Keep results small: they live in a jsonb column read by status pages. */
export function boundedResult(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return { unserializable: scrub(String(value)) };
  }
  if (text === undefined) return undefined;
  // Every secret the process knows, before the preview could cut one in half.
  text = scrub(text);
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) {
    try {
      return JSON.parse(text);
    } catch {
      // A secret that spanned JSON syntax ("a\":\"b") was cut out of it: keep the text.
      return { redacted: text };
    }
  }
  return { truncated: true, preview: text.slice(0, 1024) };
}

/**
 * A run's AbortController, made when something first reads `signal`. Most handlers never do, and
 * a controller with a listener on it costs about 1 KB that lives as long as the run and 10 µs to
 * make; with 10,000 runs due at one instant that was a fifth of the time to start them.
 */
export class RunController {
  private controller: AbortController | undefined;
  private listener: ((reason: unknown) => void) | undefined;
  aborted = false;
  reason: unknown;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.aborted && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.listener?.(reason);
  }

  /** The invocation's own listener: there is one, called on the first abort. */
  onAbort(listener: (reason: unknown) => void): void {
    this.listener = listener;
  }
}

/** A handler just called: what it returned (a value or a promise), or what it threw. */
export type HandlerCall = { started: number } & (
  | { threw: false; value: unknown }
  | { threw: true; error: unknown }
);

/** Call a handler now. Its outcome is settled by settleCall. */
export function callHandler(handler: JobHandler, ctx: JobContext): HandlerCall {
  const started = performance.now();
  try {
    return { started, threw: false, value: handler(ctx) };
  } catch (error) {
    return { started, threw: true, error };
  }
}

type Settled = Omit<RunOutcome, "durationMs">;

/**
 * The outcome of a called handler that settled already (it threw, returned a plain value, or its
 * run was aborted before the call), or undefined when it returned a promise. Deciding these at
 * once costs no promise, timer or closure: a per-second fan-out starts 10,000 such runs at once.
 */
export function settledNow(call: HandlerCall, controller: RunController): RunOutcome | undefined {
  if (call.threw) return withDuration(call, failure(call.error));
  if (controller.aborted)
    return withDuration(call, { status: "interrupted", error: errorMessage(controller.reason) });
  if (!isThenable(call.value))
    return withDuration(call, { status: "succeeded", result: boundedResult(call.value) });
  return undefined;
}

/**
 * Wait for a called handler to settle, its timeout to pass (counted from the call), or its
 * controller to be aborted (shutdown, cancel), whichever comes first. A handler that ignores its
 * signal is left behind: the outcome is decided at the deadline, so the run is recorded on time.
 */
export function settleCall(
  call: HandlerCall,
  controller: RunController,
  timeoutMs: number,
): Promise<RunOutcome> {
  const now = settledNow(call, controller);
  if (now) return Promise.resolve(now);
  return new Promise<RunOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Settled) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(withDuration(call, outcome));
    };
    controller.onAbort((reason) => {
      if (reason instanceof RunAbort && reason.kind === "timeout") return;
      settle({ status: "interrupted", error: errorMessage(reason) });
    });
    const timer = setTimeout(
      () => {
        const reason = new RunAbort("timeout", `timed out after ${timeoutMs} ms`);
        settle({ status: "timed_out", error: reason.message });
        controller.abort(reason);
      },
      Math.max(0, timeoutMs - (performance.now() - call.started)),
    );
    Promise.resolve((call as { value: unknown }).value).then(
      (value) => settle({ status: "succeeded", result: boundedResult(value) }),
      (error: unknown) => settle(failure(error)),
    );
  });
}

function withDuration(call: HandlerCall, outcome: Settled): RunOutcome {
  return { ...outcome, durationMs: performance.now() - call.started };
}

function failure(error: unknown): Settled {
  return {
    status: "failed",
    error: scrub(errorMessage(error)),
    errorStack: error instanceof Error && error.stack ? scrub(error.stack) : undefined,
    // A kind may attach what it has (a command's exit code and output tails) to its error.
    result: boundedResult((error as { result?: unknown } | null)?.result),
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
