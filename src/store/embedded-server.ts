import { type SpawnOptions, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import type { Binaries } from "./embedded-binaries.js";
import { cannotStart, isRoot } from "./embedded-paths.js";
import { alive, isPostmasterOf, readPidFile } from "./embedded-proc.js";

/** The account the server runs as: as root, `postgres` (PostgreSQL refuses root); else ourselves. */
export interface ServerUser {
  uid?: number;
  gid?: number;
}

export function serverUser(): ServerUser {
  if (!isRoot()) return {};
  const ids = () => {
    const id = (flag: string) =>
      Number(
        execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
      );
    return { uid: id("-u"), gid: id("-g") };
  };
  try {
    return ids();
  } catch {
    try {
      execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"], {
        stdio: "ignore",
      });
      return ids();
    } catch {
      throw cannotStart(
        "running as root, and there is no postgres account, nor could one be created",
        "create one (useradd postgres)",
      );
    }
  }
}

/** The server and initdb get no secrets of ours: a bare environment. */
const bareEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" });

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    lines.findLast((line) => /FATAL|ERROR|error|could not|cannot/.test(line)) ?? lines.at(-1) ?? "no output"
  );
}

/** Create the cluster: superuser `postgres` with `password`, password authentication (SCRAM) only. */
export async function initCluster(
  binaries: Binaries,
  dataDir: string,
  password: string,
  user: ServerUser,
  logFile: string,
): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) chownSync(dataDir, user.uid, user.gid!);
  // The password reaches initdb in a file only the server's account can read, removed at once.
  const pwfile = resolve(dirname(dataDir), `.initdb-${randomBytes(6).toString("hex")}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== undefined) chownSync(pwfile, user.uid, user.gid!);
  try {
    const args = [
      `--pgdata=${dataDir}`,
      "--auth=scram-sha-256",
      "--username=postgres",
      `--pwfile=${pwfile}`,
      "--encoding=UTF8",
      "--locale=C",
    ];
    const { code, output } = await runToEnd(binaries.initdb, args, { ...user, env: bareEnv(), cwd: "/" });
    writeFileSync(logFile, output, { flag: "a", mode: 0o600 });
    if (code !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      throw cannotStart(`initdb failed: ${lastLine(output)}`, `see ${logFile}`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

function runToEnd(
  file: string,
  args: string[],
  options: SpawnOptions,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("error", (error: NodeJS.ErrnoException) => reject(spawnFailed(file, error)));
    child.on("close", (code) => resolveRun({ code, output }));
  });
}

function spawnFailed(file: string, error: NodeJS.ErrnoException) {
  const hint =
    error.code === "EACCES"
      ? "make it readable and executable by the account the server runs as"
      : "reinstall with npm install";
  return cannotStart(`running ${file} failed (${error.code ?? error.message})`, hint);
}

export interface Listen {
  port: number;
  /** 127.0.0.1 on `port` as well as the socket (always, when there is no socket directory). */
  tcp: boolean;
  socketDir: string | undefined;
}

/**
 * Start the server in a session of its own (setsid): a Ctrl-C at the runner's terminal reaches the
 * runner's process group only, so the runner can record its outcomes and then stop the server
 * itself. Its output goes to `logFile`. Resolves with its pid once it accepts connections.
 */
export async function startServer(
  binaries: Binaries,
  dataDir: string,
  listen: Listen,
  user: ServerUser,
  logFile: string,
): Promise<number> {
  if (listen.socketDir) {
    // Locks of a server that died with the socket still there: no server of ours is running now.
    for (const name of readdirSync(listen.socketDir)) {
      if (name.startsWith(".s.PGSQL.")) rmSync(resolve(listen.socketDir, name), { force: true });
    }
  }
  const args = [
    "-D",
    dataDir,
    "-p",
    String(listen.port),
    "-c",
    `listen_addresses=${listen.tcp || !listen.socketDir ? "127.0.0.1" : ""}`,
    "-c",
    `unix_socket_directories=${listen.socketDir ? `"${listen.socketDir}"` : ""}`,
    "-c",
    "unix_socket_permissions=0700",
  ];
  const out = openSync(logFile, "a", 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(binaries.postgres, args, {
      ...user,
      env: bareEnv(),
      cwd: "/",
      detached: true,
      stdio: ["ignore", out, out],
    });
  } finally {
    closeSync(out);
  }
  let failed: Error | undefined;
  child.on("error", (error: NodeJS.ErrnoException) => {
    failed = spawnFailed(binaries.postgres, error);
  });
  child.unref();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failed) throw failed;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw cannotStart(`postgres exited at startup: ${lastLine(tail(logFile))}`, `see ${logFile}`);
    }
    const pidFile = readPidFile(dataDir);
    if (pidFile?.pid === child.pid && pidFile?.ready) return child.pid!;
    if (Date.now() > deadline) {
      child.kill("SIGQUIT");
      throw cannotStart("postgres was not ready within 60 s", `see ${logFile}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").slice(-4000) : "";
}

/**
 * Stop the server of `dataDir` if one runs: a fast shutdown (SIGINT: sessions are ended, a
 * checkpoint is written), then an immediate one (SIGQUIT) if it has not ended within 10 s.
 */
export async function stopServer(dataDir: string): Promise<void> {
  const pid = readPidFile(dataDir)?.pid;
  if (pid === undefined || !isPostmasterOf(pid, dataDir)) return;
  for (const [signal, waitMs] of [
    ["SIGINT", 10_000],
    ["SIGQUIT", 2_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (alive(pid) && Date.now() < deadline)
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    if (!alive(pid)) return;
  }
}
