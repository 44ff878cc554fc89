import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import { registeredSecrets, scrub } from "../util/secrets.js";

export type { Logger };
/** Every log line passes through the one scrubber (util/secrets.ts). */
export { registerSecret, scrub as redactSecrets } from "../util/secrets.js";

/** Field paths that hold credentials wherever they appear in a log object. */
const REDACT_PATHS = [
  "password",
  "secret",
  "authorization",
  "*.password",
  "*.secret",
  "*.authorization",
  "*.headers.authorization",
  '*.headers["x-internal-secret"]',
  'headers["x-internal-secret"]',
  "headers.authorization",
  "req.headers.authorization",
  'req.headers["x-internal-secret"]',
  "req.headers.cookie",
];

function scrubbing(target: DestinationStream): DestinationStream {
  return { write: (line: string) => target.write(registeredSecrets().length > 0 ? scrub(line) : line) };
}

export interface LogOptions {
  level: string;
  format: "json" | "pretty";
  runnerId: string;
  /** Where lines go; defaults to stdout. Tests pass a collector; CLI commands pass stderr. */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const target =
    options.destination ??
    (options.format === "pretty"
      ? pretty({ sync: true, colorize: process.stdout.isTTY })
      : pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      level: options.level,
      base: { runner_id: options.runnerId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    scrubbing(target),
  );
}
