import { StringDecoder } from "node:string_decoder";
import { format } from "node:util";
import type { Logger } from "pino";
import type { JobContext } from "../types.js";
import type { OutputStream } from "../store/output.js";

/** Keeps one line of a run's output (src/run/output.ts). */
export type OutputSink = (stream: OutputStream, line: string) => void;

/**
 * Where the built-in kinds send a run's output (a command's stdout and stderr): a hidden field of
 * the ctx the executor builds, absent from the public JobContext type. A ctx made elsewhere (a
 * test's) has none, and its output goes nowhere.
 */
export const OUTPUT = Symbol("runner.output");

export function outputOf(ctx: JobContext): OutputSink | undefined {
  return (ctx as unknown as { [OUTPUT]?: OutputSink })[OUTPUT];
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/**
 * The handler's logger, whose lines (at an enabled level) are also kept with the run as
 * `<level> <message> <fields as JSON>`. The daemon's log gets them unchanged.
 */
export function capturing(log: Logger, sink: OutputSink): Logger {
  for (const level of LEVELS) {
    const original = log[level].bind(log) as (...args: unknown[]) => void;
    (log as unknown as Record<string, unknown>)[level] = (...args: unknown[]) => {
      if (log.isLevelEnabled(level)) sink("log", `${level} ${lineOf(args)}`);
      original(...args);
    };
  }
  return log;
}

function lineOf(args: unknown[]): string {
  const [first, ...rest] = args;
  if (typeof first === "string") return oneLine(format(first, ...rest));
  if (first instanceof Error) {
    const message = rest.length > 0 ? format(...rest) : first.message;
    return oneLine(`${message} ${first.name}: ${first.message}`);
  }
  const message = rest.length > 0 ? format(...rest) : "";
  return oneLine(`${message} ${safeJson(first)}`.trim());
}

function safeJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)) ??
      ""
    );
  } catch {
    return String(value);
  }
}

/** A message with newlines is one line of output: its line breaks become " | ". */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, " | ");
}

/**
 * Splits a stream's chunks into lines for `sink`; a line with no end yet waits for the next chunk,
 * up to 64 KiB (then it is kept as it is). `end()` keeps the last, unterminated line.
 */
export class LineSplitter {
  private carry = "";
  private readonly decoder = new StringDecoder("utf8");
  constructor(
    private readonly stream: OutputStream,
    private readonly sink: OutputSink,
  ) {}
  push(chunk: Buffer): void {
    const parts = (this.carry + this.decoder.write(chunk)).split("\n");
    this.carry = parts.pop()!;
    for (const line of parts) this.sink(this.stream, line.replace(/\r$/, ""));
    if (this.carry.length > 65536) {
      this.sink(this.stream, this.carry);
      this.carry = "";
    }
  }
  end(): void {
    this.carry += this.decoder.end();
    if (this.carry) this.sink(this.stream, this.carry);
    this.carry = "";
  }
}
