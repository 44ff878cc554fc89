import { spawn } from "node:child_process";
import { BIN, childEnv } from "./process.js";

/** Terminal colour codes (ESC [ ... m). */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** `runner <args>` with its stdout and stderr on a terminal (util-linux `script` gives it a pty). */
export function onTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args]
    .map((word) => `'${word.replace(/'/g, "'\\''")}'`)
    .join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...childEnv(env), SHELL: "/bin/sh", TERM: "xterm" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output: output.replace(COLOUR, "").replace(/\r/g, "") }));
  });
}
