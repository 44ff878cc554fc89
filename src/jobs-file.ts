import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { isMap, isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { buildDeclarativeJob, declarativeJob } from "./kinds/index.js";
import type { Job } from "./types.js";

type Path = (string | number)[];

/** "line:col" of the node at `path` (or of the key named `key` inside it), when the parser knows. */
function position(doc: Document, counter: LineCounter, path: Path, key?: string): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (!isNode(node) || !node.range) continue;
    let offset = node.range[0];
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find(
        (item) => isNode(item.key) && (item.key as { value?: unknown }).value === key,
      );
      if (pair && isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    const { line, col } = counter.linePos(offset);
    return `${line}:${col}`;
  }
  return "";
}

function describeIssue(issue: z.core.$ZodIssue): { path: Path; key?: string; message: string } {
  const path = issue.path as Path;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys;
    return {
      path,
      key: keys[0],
      message: `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => JSON.stringify(k)).join(", ")}`,
    };
  }
  return { path, message: issue.message };
}

/**
 * Load a jobs file (.yaml, .yml or .json: the YAML parser reads JSON too, with positions).
 * Every problem becomes one line naming the file, line:column, the job and the field; all of
 * them are collected into one ConfigError.
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
  const name = basename(path);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return `${name}${at ? `:${at.line}:${at.col}` : ""}: invalid YAML: ${message}`;
      }),
    );
  }
  const root = doc.toJS() as unknown;
  const entries = (root as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(entries)) throw new ConfigError(`${name}: expected a top-level "jobs:" list`);
  const problems: string[] = [];
  const jobs: Job[] = [];
  entries.forEach((entry, index) => {
    const label =
      typeof (entry as { name?: unknown })?.name === "string"
        ? `job ${JSON.stringify((entry as { name: string }).name)}`
        : `job ${index + 1}`;
    const line = (path: Path, message: string, key?: string) => {
      const at = position(doc, counter, ["jobs", index, ...path], key);
      const field = path.length > 0 ? `${path.join(".")}: ` : "";
      return `${name}${at ? `:${at}` : ""}: ${label}: ${field}${message}`;
    };
    const parsed = declarativeJob.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const { path: issuePath, key, message } = describeIssue(issue);
        problems.push(line(issuePath, message, key));
      }
      return;
    }
    const built = buildDeclarativeJob(parsed.data, env, path);
    for (const problem of built.problems) problems.push(line(problem.path, problem.message));
    if (built.job) jobs.push(built.job);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return jobs;
}

/**
 * A job registered over HTTP (POST /api/v1/scheduler/jobs): the jobs-file shape as JSON, and
 * only the `http` kind (command and sql jobs would let an HTTP caller run code on the host).
 */
export function parseHttpJobDefinition(
  input: unknown,
  env: NodeJS.ProcessEnv,
): { job?: Job; problems: string[] } {
  if (input && typeof input === "object" && ("command" in input || "sql" in input)) {
    return { problems: ["only http jobs can be registered over HTTP"] };
  }
  const parsed = declarativeJob.safeParse(input);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) => {
        const { path, message } = describeIssue(issue);
        return `${path.length > 0 ? `${path.join(".")}: ` : ""}${message}`;
      }),
    };
  }
  const built = buildDeclarativeJob(parsed.data, env, "api");
  if (!built.job) return { problems: built.problems.map((p) => `${p.path.join(".")}: ${p.message}`) };
  return { job: built.job, problems: [] };
}
