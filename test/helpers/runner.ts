import type { Sql } from "postgres";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/observe/log.js";
import { Daemon } from "../../src/run/daemon.js";

/**
 * A daemon (the engine behind `Runner` and the CLI, parts visible) on the test's schema, logging
 * into an array so tests can read (and grep) its lines.
 */
export function testRunner(sql: Sql, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const config = loadConfig({
    JOB_RUNNER_ID: "test-runner",
    SHUTDOWN_GRACE_SECONDS: "2",
    HTTP_PORT: "0",
    LOG_LEVEL: "debug",
    ...env,
  });
  // The product's own logger, redaction included, writing into an array.
  const destination = { write: (line: string) => void lines.push(line) };
  const log = createLogger({
    level: config.logLevel,
    format: "json",
    runnerId: config.runnerId,
    destination,
  });
  const runner = new Daemon({ config, sql, log });
  return { runner, lines, config };
}

/** Poll until `check` returns a truthy value, or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
