import pino from "pino";
import type { Sql } from "postgres";
import type { JobContext } from "../../src/types.js";

/** A handler context built by hand, for testing a job kind on its own. */
export function context(
  overrides: Partial<JobContext> & { sql?: Sql } = {},
): JobContext & { controller: AbortController } {
  const controller = new AbortController();
  return {
    controller,
    signal: controller.signal,
    log: pino({ level: "silent" }),
    sql: undefined as unknown as Sql,
    params: {},
    runId: "1",
    jobName: "test",
    scheduledFor: null,
    attempt: 1,
    trigger: "manual",
    idempotencyKey: "1",
    fencingToken: 1,
    progress: () => {},
    ...overrides,
  };
}
