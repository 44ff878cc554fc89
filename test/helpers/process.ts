import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "vitest";

export const BIN = resolve(import.meta.dirname, "../../bin/runner");

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child runner: only what the test sets, plus PATH and HOME. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", ...env };
}

/**
 * Children still alive when their test file ends (a failed test skipped its kill) are killed
 * then; and when the worker exits, in case vitest ends it without running the file's hooks.
 */
const live = new Set<ChildProcess>();
const killAll = () => {
  for (const child of live) child.kill("SIGKILL");
};
afterAll(killAll);
process.on("exit", killAll);

/** A running `bin/runner` whose output is collected as it comes. */
export class RunnerProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<Finished>;

  /** `detached`: in a process group of its own, so a test can signal the group as a terminal's Ctrl-C does. */
  constructor(
    args: string[],
    env: Record<string, string>,
    cwd?: string,
    options: { detached?: boolean } = {},
  ) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv(env),
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: options.detached ?? false,
    });
    this.child.stdout!.on("data", (chunk) => {
      this.stdout += chunk;
    });
    this.child.stderr!.on("data", (chunk) => {
      this.stderr += chunk;
    });
    live.add(this.child);
    this.exited = new Promise((resolveExit) => {
      this.child.on("exit", (code, signal) => {
        live.delete(this.child);
        // Let the pipes drain before reporting.
        setImmediate(() => resolveExit({ code, signal, stdout: this.stdout, stderr: this.stderr }));
      });
    });
  }

  /** JSON log lines written so far. */
  logs(): Record<string, unknown>[] {
    return this.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs().find(predicate);
      if (found) return found;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(
          `log line not seen within ${timeoutMs} ms.\nstdout:\n${this.stdout.slice(-3000)}\nstderr:\n${this.stderr.slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Run `bin/runner` to completion. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Finished> {
  const proc = new RunnerProcess(args, env);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), timeoutMs);
  return proc.exited.finally(() => clearTimeout(timer));
}

/** Write a jobs module to a fresh temp dir and return its path. */
export function jobsModule(source: string, name = "jobs.mjs"): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-e2e-"));
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}
