import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "../..");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run a compiled worker script (bench/dist/<name>.js) in its own Node process; resolve its JSON line. */
export function worker<T>(name: string, args: Record<string, unknown>, timeoutMs = 180_000): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", resolve(HERE, `${name}.js`), JSON.stringify(args)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = out
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .at(-1);
      if (code !== 0 || !line) reject(new Error(`${name} exited ${code}: ${out.slice(-500)}`));
      else resolvePromise(JSON.parse(line) as T);
    });
  });
}

/**
 * A jobs module for `runner run --jobs`: `count` jobs made by `job` (the text of a function of i
 * returning a job), with `now()` (the high-resolution wall clock) in scope for handlers that time
 * their own start. Returns its path.
 */
export function jobsModule(count: number, job: string): string {
  const module = join(mkdtempSync(join(tmpdir(), "runner-bench-")), "jobs.mjs");
  writeFileSync(
    module,
    `const now = () => performance.timeOrigin + performance.now();\nexport default Array.from({ length: ${count} }, ${job});\n`,
  );
  return module;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Resident set size of this process, in MB. */
export const rssMb = () => process.memoryUsage().rss / 1048576;

/** The highest resident set size this process has had (VmHWM), in MB; the current one off Linux. */
export function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return rssMb();
}

/** Milliseconds until `ms` past the next whole second (fires land on second boundaries). */
export function untilNextSecond(offsetMs = 0): number {
  return 1000 - (Date.now() % 1000) + offsetMs;
}
