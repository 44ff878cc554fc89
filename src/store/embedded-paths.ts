import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { DatabaseUnreachableError } from "../errors.js";

/**
 * Where the embedded server's files live. The project's `.runner/` holds the password (0600), the
 * server's log and which process owns the server; the data directory and the Unix socket are
 * there too, except as root when the `postgres` account cannot reach `.runner/` (a clone under
 * /root or a 0700 folder): then they go to a directory of the system's temp dir named after the
 * project path, so it is still one cluster per project.
 */
export interface EmbeddedPaths {
  /** The project's `.runner/`, absolute. */
  dir: string;
  dataDir: string;
  /** Where the server listens on a Unix socket; undefined when the path would be too long (TCP then). */
  socketDir: string | undefined;
  logFile: string;
  passwordFile: string;
  ownerFile: string;
}

/** sun_path holds 108 bytes on Linux (104 elsewhere), its terminating NUL included. */
const SOCKET_PATH_MAX = process.platform === "linux" ? 107 : 103;

export const isRoot = () => process.getuid?.() === 0;

/** Whether a user other than the owner can reach `path` (every ancestor searchable by others). */
function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/** The one-line error for a start that cannot go on, with what to do. */
export function cannotStart(what: string, todo: string): DatabaseUnreachableError {
  return new DatabaseUnreachableError(
    `the embedded PostgreSQL cannot start: ${what}; ${todo}, or set DATABASE_URL to use your own server`,
  );
}

/**
 * A directory of root's in the shared temp dir. Anyone may create names there first, so one that
 * exists must be a real directory owned by root that no one else can write; else it is refused.
 */
export function rootOwnedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o755 });
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw cannotStart(`${path} is not a directory owned by root and writable only by it`, "remove it");
  }
  chmodSync(path, 0o755);
  return path;
}

export function embeddedPaths(directory: string, port: number | undefined): EmbeddedPaths {
  const dir = resolve(directory);
  mkdirSync(dir, { recursive: true });
  let base = dir;
  if (isRoot() && !traversableByOthers(dir)) {
    const name = `runner-${createHash("sha1").update(dir).digest("hex").slice(0, 12)}`;
    base = rootOwnedDir(resolve(tmpdir(), name));
  }
  const socketDir = resolve(base, "run");
  // The socket is <dir>/.s.PGSQL.<port>; with the port not chosen yet, assume five digits.
  const longest = `${socketDir}/.s.PGSQL.${port ?? 65535}`;
  return {
    dir,
    dataDir: resolve(base, "data"),
    // unix_socket_directories is a list: a name with a comma or a quote cannot be given safely.
    socketDir:
      Buffer.byteLength(longest) <= SOCKET_PATH_MAX && !/[",]/.test(socketDir) ? socketDir : undefined,
    logFile: resolve(dir, "postgres.log"),
    passwordFile: resolve(dir, "password"),
    ownerFile: resolve(dir, "server-owner.json"),
  };
}

/** The socket directory, private to the server's account (which root bypasses). */
export function prepareSocketDir(socketDir: string, ids: { uid?: number; gid?: number }): void {
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  if (ids.uid !== undefined) chownSync(socketDir, ids.uid, ids.gid ?? ids.uid);
}

/** The superuser's password from `.runner/password`, made 0600 if it was not; undefined if absent. */
export function readPassword(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const password = readFileSync(file, "utf8").trim();
  return password || undefined;
}

/** A new random password (32 URL-safe characters), not yet saved. */
export function newPassword(): string {
  return randomBytes(24).toString("base64url");
}

/** Save the password with mode 0600, replacing the file at once (never half-written). */
export function savePassword(file: string, password: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${password}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
