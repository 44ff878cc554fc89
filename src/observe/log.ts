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
  /** auto: readable lines when the output is a terminal, JSON otherwise. */
  format: "auto" | "json" | "pretty";
  runnerId: string;
  /** Where lines go: stdout (1, the default) or stderr (2, CLI commands other than run). */
  fd?: 1 | 2;
  /** Lines go here instead, as JSON (tests pass a collector). */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const target = options.destination ?? stream(options.format, options.fd ?? 1);
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

/**
 * JSON for machines; for a person at a terminal one line per entry: time, level, message, then the
 * fields (without the runner id, which is the host name: the terminal's own).
 */
function stream(format: LogOptions["format"], fd: 1 | 2): DestinationStream {
  const terminal = Boolean((fd === 1 ? process.stdout : process.stderr).isTTY);
  if (format === "json" || (format === "auto" && !terminal))
    return pino.destination({ dest: fd, sync: fd === 2 });
  return pretty({
    sync: true,
    destination: fd,
    colorize: terminal,
    singleLine: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,runner_id",
  });
}
