import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * Known secret values (passwords, INTERNAL_SECRET, `${NAME}` values of jobs files). Whatever path
 * they travel, a log line that contains one gets `[REDACTED]` instead: field-path redaction alone
 * misses secrets inside messages and error texts.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; they are weak secrets anyway.
  if (value && value.length >= 4) secrets.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join("[REDACTED]");
  }
  return out;
}

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
  return { write: (line: string) => target.write(secrets.size > 0 ? redactSecrets(line) : line) };
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
