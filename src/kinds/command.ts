import { spawn } from "node:child_process";
import { z } from "zod";
import { parseDuration } from "../duration.js";
import type { JobContext } from "../types.js";

export const commandSpec = z
  .object({
    argv: z.array(z.string()).min(1, "expected the program and its arguments").optional(),
    shell: z.string().min(1).optional(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
    kill_grace: z
      .union([z.string(), z.number()])
      .default("5s")
      .refine((v) => parseDuration(v) !== undefined, 'expected a duration such as "5s"'),
  })
  .strict()
  .refine(
    (spec) => (spec.argv === undefined) !== (spec.shell === undefined),
    "expected exactly one of argv or shell",
  );

export type CommandSpec = z.output<typeof commandSpec>;

const TAIL_BYTES = 4096;

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

/**
 * Run a program (argv, no shell) or a shell line in its own process group. Exit code 0 is
 * success. On timeout or shutdown the whole group gets SIGTERM, then SIGKILL after kill_grace,
 * so a script's children do not outlive it.
 */
export function commandHandler(spec: CommandSpec) {
  const graceMs = parseDuration(spec.kill_grace)!;
  return (ctx: JobContext) =>
    new Promise<{ exit_code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const [file, args] =
        spec.shell !== undefined ? ["/bin/sh", ["-c", spec.shell]] : [spec.argv![0]!, spec.argv!.slice(1)];
      const child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env, RUNNER_RUN_ID: ctx.runId, RUNNER_JOB_NAME: ctx.jobName },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const stdout = new Tail();
      const stderr = new Tail();
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      let killTimer: NodeJS.Timeout | undefined;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // The group is already gone.
        }
      };
      const onAbort = () => {
        signalGroup("SIGTERM");
        killTimer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      child.on("error", (error) => {
        ctx.signal.removeEventListener("abort", onAbort);
        reject(new Error(`could not start ${file}: ${error.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(killTimer);
        ctx.signal.removeEventListener("abort", onAbort);
        const output = { exit_code: code ?? -1, stdout: stdout.toString(), stderr: stderr.toString() };
        if (code === 0) return resolve(output);
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const last = output.stderr.trim().split("\n").slice(-3).join(" | ");
        reject(Object.assign(new Error(last ? `${reason}: ${last}` : reason), { result: output }));
      });
    });
}
