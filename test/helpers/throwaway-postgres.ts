import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/**
 * A PostgreSQL server of the calling test file's own (initdb in a temp directory, its own port),
 * which the test may stop in a chosen mode (`fast`: clients are told; `immediate`: no checkpoint,
 * connections cut) and start again on the same port. Uses the system's pg_ctl; run as root, the
 * server runs as the `postgres` user. Stopped and removed after the file.
 */
export interface ThrowawayPostgres {
  url: string;
  stop(mode: "fast" | "immediate"): void;
  start(): void;
}

const asServerUser = (args: string[]) =>
  process.getuid?.() === 0
    ? (["runuser", ["-u", "postgres", "--", ...args]] as const)
    : ([args[0]!, args.slice(1)] as const);

function run(args: string[]): void {
  const [cmd, rest] = asServerUser(args);
  execFileSync(cmd, [...rest], { stdio: "ignore", timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "runner-throwaway-pg-"));
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  const data = join(dir, "data");
  const port = await freePort();
  run(["initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const server: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => run(["pg_ctl", "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]),
    stop: (mode) => run(["pg_ctl", "-D", data, "-m", mode, "-w", "stop"]),
  };
  server.start();
  afterAll(() => {
    try {
      server.stop("immediate");
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return server;
}
