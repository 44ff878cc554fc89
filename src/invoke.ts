import { errorMessage } from "./errors.js";
import type { JobContext, JobHandler, RunOutcome } from "./types.js";

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
    return { unserializable: String(value) };
  }
  if (text === undefined) return undefined;
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) return JSON.parse(text);
  return { truncated: true, preview: text.slice(0, 1024) };
}

/**
 * Run a handler until it settles, its timeout passes, or its controller is aborted (shutdown,
 * cancel), whichever comes first. A handler that ignores its signal is left behind: the outcome
 * is decided at the deadline, so the run is recorded on time regardless.
 */
export async function invokeHandler(
  handler: JobHandler,
  ctx: JobContext,
  controller: AbortController,
  timeoutMs: number,
): Promise<RunOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<RunOutcome>((resolve) => {
    timer = setTimeout(() => {
      const reason = new RunAbort("timeout", `timed out after ${timeoutMs} ms`);
      controller.abort(reason);
      resolve({ status: "timed_out", error: reason.message, durationMs: elapsed() });
    }, timeoutMs);
  });
  const aborted = new Promise<RunOutcome>((resolve) => {
    const onAbort = () => {
      const reason = controller.signal.reason;
      if (reason instanceof RunAbort && reason.kind === "timeout") return;
      resolve({ status: "interrupted", error: errorMessage(reason), durationMs: elapsed() });
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  const settled = Promise.resolve()
    .then(() => handler(ctx))
    .then(
      (value): RunOutcome => ({ status: "succeeded", result: boundedResult(value), durationMs: elapsed() }),
      (error: unknown): RunOutcome => ({
        status: "failed",
        error: errorMessage(error),
        errorStack: error instanceof Error ? error.stack : undefined,
        // A kind may attach what it has (a command's exit code and output tails) to its error.
        result: boundedResult((error as { result?: unknown } | null)?.result),
        durationMs: elapsed(),
      }),
    );
  try {
    return await Promise.race([settled, deadline, aborted]);
  } finally {
    clearTimeout(timer);
  }
}
