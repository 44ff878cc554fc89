import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { Sql } from "postgres";
import type { Config } from "../config.js";
import { type OutputLine, OutputStore, type OutputStream } from "../store/output.js";
import { scrub } from "../util/secrets.js";
import type { RunEventBus } from "./events.js";

/** How much output a run keeps: its last lines, within both bounds. */
export interface OutputLimits {
  maxLines: number;
  maxBytes: number;
}

/** A run's output between flushes: the sizes of the lines it keeps, and those not yet written. */
interface RunBuffer {
  nextSeq: number;
  /** The kept lines' numbers and sizes, oldest first (at most maxLines of them). */
  kept: { seq: number; bytes: number }[];
  bytes: number;
  pending: OutputLine[];
  /** Lines numbered below this are gone: not written, or to be deleted. */
  keepFrom: number;
  trimmed: boolean;
  ended: boolean;
}

const FLUSH_EVERY_MS = 1000;

/**
 * The output of every run (ctx.log lines, a command's stdout and stderr), kept with the run in
 * job_run_output. Lines are redacted (util/secrets.ts scrub) and buffered per run; every second
 * one INSERT carries all runs' new lines and one DELETE trims the runs past their bounds, so a
 * chatty per-second job costs two statements a second, not one per line. Lines beyond the bounds
 * before a flush are dropped in memory and never written. A failed write is logged at warn and
 * its lines dropped: output is a help for people, never a reason to fail a run.
 */
export class RunOutput {
  private readonly runs = new Map<string, RunBuffer>();
  /** Runs recently over: a handler left behind at its timeout may still log; its lines are dropped. */
  private readonly over = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: OutputStore,
    private readonly limits: OutputLimits,
    private readonly log: Logger,
  ) {}

  /** Keep one line (no newline in it) of a run's output. */
  write(runId: string, stream: OutputStream, text: string): void {
    let run = this.runs.get(runId);
    if (!run) {
      if (this.over.has(runId)) return;
      run = { nextSeq: 1, kept: [], bytes: 0, pending: [], keepFrom: 1, trimmed: false, ended: false };
      this.runs.set(runId, run);
    }
    const line = clip(scrub(text), this.limits.maxBytes);
    const bytes = Buffer.byteLength(line);
    const seq = run.nextSeq++;
    run.kept.push({ seq, bytes });
    run.bytes += bytes;
    run.pending.push({ runId, seq, at: new Date(), stream, line });
    while (run.kept.length > this.limits.maxLines || run.bytes > this.limits.maxBytes) {
      const oldest = run.kept.shift()!;
      run.bytes -= oldest.bytes;
      run.keepFrom = oldest.seq + 1;
      if (run.pending[0]?.seq === oldest.seq) run.pending.shift();
      else run.trimmed = true;
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS).unref();
  }

  /** The run is over: its last lines are written at the next flush, then it is forgotten. */
  end(runId: string): Promise<void> {
    this.over.add(runId);
    // Remember the latest 10,000 ended runs: enough for handlers left behind, bounded in memory.
    if (this.over.size > 10_000) this.over.delete(this.over.values().next().value!);
    const run = this.runs.get(runId);
    if (!run) return Promise.resolve();
    run.ended = true;
    return this.flush();
  }

  /** Write every run's pending lines and trims now (flushes never overlap). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.send());
    return this.flushing;
  }

  private async send(): Promise<void> {
    const lines: OutputLine[] = [];
    const trims: { runId: string; keepFrom: number }[] = [];
    for (const [runId, run] of this.runs) {
      lines.push(...run.pending);
      run.pending = [];
      if (run.trimmed) trims.push({ runId, keepFrom: run.keepFrom });
      run.trimmed = false;
      if (run.ended) this.runs.delete(runId);
    }
    if (lines.length === 0 && trims.length === 0) return;
    try {
      await this.store.append(lines, trims);
    } catch (error) {
      this.log.warn({ lines: lines.length }, "run output not kept: %s", errorMessage(error));
    }
  }
}

/** A line longer than the byte bound keeps its end, whole characters only. */
function clip(line: string, maxBytes: number): string {
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const tail = Buffer.from(line).subarray(-maxBytes).toString("utf8");
  // A cut through a multi-byte character leaves U+FFFD at the start (up to 3 bytes' worth).
  return tail.replace(/^\uFFFD+/, "");
}

/**
 * Keep every run's output: the lines handlers send as "output" events (src/run/context.ts), each
 * run's last ones written once it has finished. Returns the flush the daemon calls as it stops.
 */
export function keepOutput(
  events: RunEventBus,
  sql: Sql,
  config: Pick<Config, "runOutputMaxLines" | "runOutputMaxBytes">,
  log: Logger,
): () => Promise<void> {
  const limits = { maxLines: config.runOutputMaxLines, maxBytes: config.runOutputMaxBytes };
  const output = new RunOutput(new OutputStore(sql), limits, log);
  events.on("output", ({ runId, stream, line }) => output.write(runId, stream, line));
  events.on("finished", ({ runId }) => void output.end(runId));
  return () => output.flush();
}
