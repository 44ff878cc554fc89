import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { errorMessage } from "../errors.js";

/**
 * One line saying why `import(path)` of a jobs module failed, as `<flag> <path>[:line:column]: ...`
 * (flag: `--jobs` or `JOBS_FILE`, where the path came from):
 * a package or file it imports that cannot be found (named), a syntax error (line and column),
 * or what the module threw while it ran (with the line, when its stack has it).
 */
export function describeImportError(error: unknown, flag: string, path: string, absolute: string): string {
  const where = (at?: string) => `${flag} ${path}${at ? `:${at}` : ""}`;
  const message = errorMessage(error).split("\n")[0]!;
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ERR_MODULE_NOT_FOUND") {
    const missing = /^Cannot find (package|module) '([^']+)' imported from (.+)$/.exec(message);
    if (missing) {
      const [, kind, name, from] = missing;
      const hint =
        kind === "package"
          ? "; packages are looked up in node_modules of the importing file's folder and the folders above it"
          : "";
      return `${where()}: module not found: ${kind} "${name}", imported from ${from}${hint}`;
    }
    return `${where()}: module not found: ${message}`;
  }
  if (error instanceof SyntaxError) {
    const at = syntaxErrorPosition(absolute) ?? stackPosition(error, absolute);
    return `${where(at)}: syntax error: ${message}`;
  }
  const at = stackPosition(error, absolute);
  return `${where(at)}: the module threw while loading: ${message}`;
}

/**
 * `line:column` of the module's syntax error. A failed dynamic import does not expose it, so ask
 * `node --check`, which prints the file, the line and a caret under the column. Undefined when the
 * module itself parses (the error is in something it imports).
 */
function syntaxErrorPosition(absolute: string): string | undefined {
  const check = spawnSync(process.execPath, ["--check", absolute], { encoding: "utf8", timeout: 10_000 });
  if (check.status === 0 || typeof check.stderr !== "string") return undefined;
  const lines = check.stderr.split("\n");
  const head = lines.findIndex((line) => line.startsWith(`${absolute}:`));
  if (head < 0) return undefined;
  const line = lines[head]!.slice(absolute.length + 1);
  const caret = lines[head + 2]?.indexOf("^") ?? -1;
  return /^\d+$/.test(line) ? (caret >= 0 ? `${line}:${caret + 1}` : line) : undefined;
}

/** `line:column` of the first stack frame in the module itself. */
function stackPosition(error: unknown, absolute: string): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const url = pathToFileURL(absolute).href.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${url}:(\\d+(?::\\d+)?)`).exec(stack)?.[1];
}
