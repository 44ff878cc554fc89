import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from "yaml";
import { ConfigError, errorMessage } from "../errors.js";
import { parseDeclarativeJob, type Problem } from "../kinds/index.js";
import type { Job } from "../types.js";
import { jsonProblem } from "./strict-json.js";

type Path = (string | number)[];

/**
 * The offset of the node at `path` (or of the key `key` inside it) in the source text. A path
 * that does not exist in the file (a missing field) falls back to its nearest existing parent.
 */
function offsetOf(doc: Document, path: Path, key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (!isNode(node) || !node.range) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (isScalar(pair?.key) && pair.key.range) return pair.key.range[0];
    }
    return node.range[0];
  }
  return undefined;
}

/**
 * Load a jobs file (.yaml, .yml or .json: the YAML parser reads JSON too, with positions).
 * Every problem of every job becomes one line naming the file, line:column, the job and the
 * field; all of them are thrown together as one ConfigError.
 */
export async function loadJobsFile(path: string, env: NodeJS.ProcessEnv): Promise<Job[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `--jobs ${path}: ${code === "ENOENT" ? "file not found" : `cannot read (${code})`}`,
    );
  }
  const file = basename(path);
  const json = extname(path).toLowerCase() === ".json" ? jsonProblem(text) : undefined;
  if (json) {
    throw new ConfigError(
      `${file}${json.at ? `:${json.at.line}:${json.at.col}` : ""}: invalid JSON: ${json.message}`,
    );
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        // prettyErrors appends the position and a source excerpt; the position goes up front.
        const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return `${file}${at ? `:${at.line}:${at.col}` : ""}: invalid YAML: ${message}`;
      }),
    );
  }
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = counter.linePos(offset);
    return `${file}:${line}:${col}`;
  };

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias bomb ("billion laughs") is refused here rather than expanded.
    throw new ConfigError(`${file}: invalid YAML: ${errorMessage(error)}`);
  }
  if (
    !root ||
    typeof root !== "object" ||
    Array.isArray(root) ||
    !Array.isArray((root as { jobs?: unknown }).jobs)
  ) {
    throw new ConfigError(`${where(offsetOf(doc, []))}: expected a top-level "jobs:" list`);
  }
  const problems: string[] = [];
  for (const key of Object.keys(root).filter((k) => k !== "jobs"))
    problems.push(`${where(offsetOf(doc, [], key))}: unknown top-level field ${JSON.stringify(key)}`);

  const jobs: Job[] = [];
  (root as { jobs: unknown[] }).jobs.forEach((entry, index) => {
    const rawName = (entry as { name?: unknown } | null)?.name;
    // JSON-quoted: a name with a quote or a newline must not break the one-line message.
    const label =
      typeof rawName === "string" ? `job ${JSON.stringify(rawName.slice(0, 80))}` : `job ${index + 1}`;
    const parsed = parseDeclarativeJob(entry, env, path);
    const located = parsed.problems.map((problem: Problem) => ({
      offset: offsetOf(doc, ["jobs", index, ...problem.path], problem.key),
      problem,
    }));
    // In file order within a job: the list reads top to bottom, like the file.
    located.sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
    for (const { offset, problem } of located) {
      const field = problem.path.length > 0 ? `${problem.path.join(".")}: ` : "";
      problems.push(`${where(offset)}: ${label}: ${field}${problem.message}`);
    }
    if (parsed.job) jobs.push(parsed.job);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return jobs;
}

/**
 * A job registered over HTTP (POST /api/v1/scheduler/jobs): the jobs-file shape as JSON, and
 * only the `http` kind (command and sql jobs would let an HTTP caller run code or SQL here).
 * Problems are "<field path>: <message>" lines.
 */
export function parseHttpJobDefinition(
  input: unknown,
  env: NodeJS.ProcessEnv,
  egress?: (url: URL) => Promise<void>,
): { job?: Job; problems: string[] } {
  if (input && typeof input === "object" && ("command" in input || "sql" in input)) {
    return { problems: ["only http jobs can be registered over HTTP"] };
  }
  const parsed = parseDeclarativeJob(input, env, "api", egress);
  return {
    job: parsed.job,
    problems: parsed.problems.map((p) => `${p.path.length > 0 ? `${p.path.join(".")}: ` : ""}${p.message}`),
  };
}
