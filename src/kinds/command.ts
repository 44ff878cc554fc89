import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { z } from "zod";
import { errorMessage } from "../errors.js";
import { LineSplitter, outputOf } from "../run/capture.js";
import type { JobContext, JobHandler } from "../types.js";
import { durationField } from "./fields.js";
import { scrubbing } from "./interpolate.js";

/** The `command:` spec of a jobs-file entry: a program with its arguments, or a shell line. */
export const commandSpec = z
  .object({
    argv: z.array(z.string()).min(1, "expected the program and its arguments").optional(),
    shell: z.string().min(1, "must not be empty").optional(),
    cwd: z.string().min(1).optional(),
    // YAML reads `RETRIES: 3` as a number; the environment is text either way.
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    // More of the daemon's environment than the minimal one, by name: an explicit choice.
    env_inherit: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"))
      .default([]),
    kill_grace: durationField.default(5000),
  })
  .strict()
  .refine(
    (spec) => (spec.argv === undefined) !== (spec.shell === undefined),
    "expected exactly one of argv or shell",
  );

export type CommandSpec = z.output<typeof commandSpec>;

const TAIL_BYTES = 4096;
/** How much of stderr the error message carries; the full 4 KiB tail is in the result. */
const ERROR_TAIL_CHARS = 500;

/** Keeps the last 4 KiB of a stream: enough to see why a script failed, never a memory hog. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= TAIL_BYTES) this.size -= this.chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString("utf8");
  }
}

export interface CommandResult {
  exit_code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a program (argv, no shell) or a shell line (/bin/sh -c) in its own process group. A shell
 * line's `${NAME}` references stay in the line and their values come in `shellEnv`. Exit code
 * 0 is success. When ctx.signal aborts (timeout, shutdown) the whole group gets SIGTERM, then
 * SIGKILL after kill_grace, so a script's children do not outlive it; the handler settles once
 * the group has closed its output. A failure's error carries the output as `result`.
 */
export function commandHandler(
  spec: CommandSpec,
  secrets: readonly string[] = [],
  shellEnv: Record<string, string> = {},
): JobHandler {
  const [file, args] =
    spec.shell !== undefined ? ["/bin/sh", ["-c", spec.shell]] : [spec.argv![0]!, spec.argv!.slice(1)];
  return scrubbing(secrets, (ctx: JobContext) => run(spec, file, args, shellEnv, ctx));
}

function run(
  spec: CommandSpec,
  file: string,
  args: string[],
  shellEnv: Record<string, string>,
  ctx: JobContext,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // Nothing may start once the run is over: an already aborted signal fires no abort event.
    if (ctx.signal.aborted) return reject(new Error(`not started: ${errorMessage(ctx.signal.reason)}`));
    const failedToStart = (error: unknown) => {
      // spawn blames the program for a missing working directory too; name the right one.
      const badCwd = spec.cwd !== undefined && !isDirectory(spec.cwd);
      return new Error(
        badCwd
          ? `working directory ${spec.cwd} does not exist`
          : `could not start ${file}: ${errorMessage(error)}`,
      );
    };
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child?.pid === undefined) return;
      try {
        // A negative pid addresses the process group that `detached: true` created.
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = () => {
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), spec.kill_grace);
    };
    const done = () => {
      clearTimeout(killTimer);
      ctx.signal.removeEventListener("abort", onAbort);
    };
    let child: ChildProcess | undefined;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: {
          ...childEnvironment(spec),
          // The values of the shell line's `${NAME}` references: the shell expands them as data.
          ...shellEnv,
          RUNNER_RUN_ID: ctx.runId,
          RUNNER_JOB_NAME: ctx.jobName,
          RUNNER_IDEMPOTENCY_KEY: ctx.idempotencyKey,
          // Empty for a run without a slot (manual, http, once).
          RUNNER_SCHEDULED_FOR: ctx.scheduledFor?.toISOString() ?? "",
        },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      // Some spawn failures throw (E2BIG, EINVAL); they fail the run like the others.
      return reject(failedToStart(error));
    }
    // At once: EMFILE, ENFILE, ENOENT and EACCES arrive as an "error" event on the next tick, and
    // an "error" without a listener would take the whole daemon down.
    child.on("error", (error) => {
      done();
      reject(failedToStart(error));
    });
    // Out of descriptors (EMFILE, ENFILE), spawn returns before creating the pipes: there is no
    // output to read, and the "error" above settles the run.
    if (!child.stdout || !child.stderr) return;
    const stdout = new Tail();
    const stderr = new Tail();
    // Every line also goes to the run's output (src/run/output.ts), where it is redacted and bounded.
    const sink = outputOf(ctx);
    const outLines = sink && new LineSplitter("stdout", sink);
    const errLines = sink && new LineSplitter("stderr", sink);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      outLines?.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      errLines?.push(chunk);
    });
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // "close", not "exit": the output is complete only once every process holding the pipes is gone.
    child.on("close", (code, signal) => {
      done();
      outLines?.end();
      errLines?.end();
      const result: CommandResult = { exit_code: code, stdout: stdout.toString(), stderr: stderr.toString() };
      if (code === 0) return resolve(result);
      let reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (ctx.signal.aborted) reason += ` (${errorMessage(ctx.signal.reason)})`;
      // One line, as errors are shown in logs, tables and alerts: the last lines of stderr, joined.
      const tail = result.stderr.trim().split("\n").join(" | ").slice(-ERROR_TAIL_CHARS);
      reject(Object.assign(new Error(tail ? `${reason}: ${tail}` : reason), { result }));
    });
  });
}

/** What a command inherits by default: enough to find programs and speak the locale, no secrets. */
const INHERITED = new Set(["PATH", "HOME", "LANG", "TZ"]);

/**
 * The child's environment: PATH, HOME, LANG, TZ and RUNNER_* from the daemon's, the names listed
 * in env_inherit, then the job's own env. Never the whole environment: DATABASE_URL,
 * INTERNAL_SECRET or ADMIN_BASIC_PASSWORD would land in any script's output, and in its result.
 */
export function childEnvironment(
  spec: Pick<CommandSpec, "env" | "env_inherit">,
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  const wanted = new Set(spec.env_inherit);
  for (const [name, value] of Object.entries(from))
    if (value !== undefined && (INHERITED.has(name) || name.startsWith("RUNNER_") || wanted.has(name)))
      env[name] = value;
  return { ...env, ...spec.env };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
