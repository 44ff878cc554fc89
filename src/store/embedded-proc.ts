import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * What the embedded server's files say about processes, and whether to believe them: a pid in
 * postmaster.pid or in our owner file may have been reused by another process since (a reboot, a
 * crash), so a pid is only trusted after checking what it is.
 */

/** Whether `pid` is a live process (a zombie counts as gone). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return procStat(pid)?.state !== "Z";
}

/** /proc/<pid>/stat's state and start time (clock ticks since boot); undefined off Linux. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields restart after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** A token that tells this process apart from a later one given the same pid. */
export function startToken(pid: number): string {
  return procStat(pid)?.start ?? "";
}

/**
 * Whether `pid` is the postmaster of `dataDir`: a live process named postgres whose working
 * directory is the data directory (a postmaster changes into it). Off Linux, the name only.
 */
export function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (!alive(pid)) return false;
  if (existsSync("/proc/self/stat")) {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      return name === "postgres" && readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
    } catch {
      return false; // not ours to inspect: another user's process
    }
  }
  try {
    const name = execFileSync("ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8" });
    return /(^|\/)postgres\s*$/.test(name.trim());
  } catch {
    return false;
  }
}

/** What postmaster.pid says: pid, port, the first socket directory, the listen address. */
export interface PidFile {
  pid: number;
  port: number;
  socketDir: string;
  listen: string;
  ready: boolean;
}

export function readPidFile(dataDir: string): PidFile | undefined {
  try {
    const lines = readFileSync(resolve(dataDir, "postmaster.pid"), "utf8").split("\n");
    return {
      pid: Number(lines[0]),
      port: Number(lines[3]),
      socketDir: (lines[4] ?? "").split(",")[0]!.trim(),
      listen: (lines[5] ?? "").trim(),
      ready: (lines[7] ?? "").trim() === "ready",
    };
  } catch {
    return undefined;
  }
}

/** Remove a postmaster.pid whose pid is not this data directory's server (PostgreSQL would refuse to start). */
export function removeStalePidFile(dataDir: string): boolean {
  const file = readPidFile(dataDir);
  if (!file || isPostmasterOf(file.pid, dataDir)) return false;
  rmSync(resolve(dataDir, "postmaster.pid"), { force: true });
  return true;
}

/**
 * The runner process responsible for stopping the server: the one that started it, or adopted it
 * after its starter died. Kept as `{pid, start}` so a reused pid is not mistaken for the owner.
 */
export function ownerAlive(ownerFile: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(ownerFile, "utf8")) as { pid: number; start: string };
    return alive(owner.pid) && startToken(owner.pid) === owner.start;
  } catch {
    return false;
  }
}

export function claimOwnership(ownerFile: string): void {
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, start: startToken(process.pid) }), {
    mode: 0o600,
  });
}

/** Whether the owner file names this process. */
export function ownedByMe(ownerFile: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(ownerFile, "utf8")) as { pid: number; start: string };
    return owner.pid === process.pid && owner.start === startToken(process.pid);
  } catch {
    return false;
  }
}
