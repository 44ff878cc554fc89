import { lstat, readdir, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { JobContext } from "../../types.js";

export interface JanitorOptions {
  dir: string;
  maxAgeHours: number;
  dryRun: boolean;
}

export interface JanitorResult {
  dir: string;
  dry_run: boolean;
  scanned: number;
  deleted: number;
  deleted_bytes: number;
  kept: number;
  errors: number;
}

/**
 * Delete files older than maxAgeHours under dir (recursively), then directories left empty.
 * Symbolic links are removed as links, never followed, so the janitor cannot wander outside dir.
 */
export async function storageJanitor(
  options: JanitorOptions,
  ctx: Pick<JobContext, "signal" | "log" | "progress">,
): Promise<JanitorResult> {
  const cutoff = Date.now() - options.maxAgeHours * 3_600_000;
  const result: JanitorResult = {
    dir: options.dir,
    dry_run: options.dryRun,
    scanned: 0,
    deleted: 0,
    deleted_bytes: 0,
    kept: 0,
    errors: 0,
  };

  async function sweep(dir: string, isRoot: boolean): Promise<boolean> {
    const entries = await readdir(dir, { withFileTypes: true });
    let remaining = entries.length;
    for (const entry of entries) {
      ctx.signal.throwIfAborted();
      const path = join(dir, entry.name);
      try {
        if (entry.isDirectory()) {
          if (await sweep(path, false)) remaining--;
          continue;
        }
        result.scanned++;
        const stats = await lstat(path);
        if (stats.mtimeMs >= cutoff) {
          result.kept++;
          continue;
        }
        if (!options.dryRun) await unlink(path);
        result.deleted++;
        result.deleted_bytes += stats.size;
        remaining--;
        if (options.dryRun) ctx.log.info({ path }, "would delete");
      } catch (error) {
        result.errors++;
        ctx.log.warn({ path, err: error }, "could not clean up");
      }
    }
    if (isRoot || remaining > 0 || options.dryRun) return false;
    await rmdir(dir).catch(() => undefined);
    return true;
  }

  await sweep(options.dir, true);
  ctx.progress(result.scanned, result.scanned);
  return result;
}
