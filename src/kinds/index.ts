import { z } from "zod";
import { jobOptionsShape, toJob } from "../jobs/schema.js";
import { registerSecret } from "../observe/log.js";
import { scheduleProblem } from "../schedule/cron.js";
import type { Job, JobHandler } from "../types.js";
import { commandHandler, commandSpec } from "./command.js";
import type { Egress } from "./egress.js";
import { httpHandler, httpSpec } from "./http.js";
import { scrub } from "../util/secrets.js";
import { type Binding, type Interpolated, interpolate } from "./interpolate.js";
import { sqlHandler, sqlSpec } from "./sql.js";

export const KINDS = ["http", "command", "sql"] as const;
export type Kind = (typeof KINDS)[number];

/** One problem of a job: the field path inside the entry, and for an unknown field its key. */
export interface Problem {
  path: (string | number)[];
  message: string;
  /** Set for an unknown field: the position to show is the key's, not the value's. */
  key?: string;
}

// The kind specs are checked on their own, after interpolation, so they are only `unknown` here.
const optionsSchema = z
  .object({
    ...jobOptionsShape,
    http: z.unknown().optional(),
    command: z.unknown().optional(),
    sql: z.unknown().optional(),
  })
  .strict();

const SPECS = { http: httpSpec, command: commandSpec, sql: sqlSpec } as const;

/** `${NAME}` in a shell line and in SQL statements is data, not code (see interpolate.ts). */
const BINDINGS: Record<Kind, (path: (string | number)[]) => Binding> = {
  http: () => "splice",
  command: (path) => (path.length === 1 && path[0] === "shell" ? "shell" : "splice"),
  sql: (path) => (path[0] === "statement" || path[0] === "statements" ? "sql" : "splice"),
};

function issuesToProblems(error: z.ZodError, prefix: (string | number)[] = []): Problem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code !== "unrecognized_keys") return { path, message: issue.message };
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return { path, key: issue.keys[0], message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}` };
  });
}

/**
 * Validate one jobs-file entry and build its Job. Every check runs whatever the others found
 * (options, exactly one kind, schedule, `${NAME}` references, the kind's spec), so one `runner
 * check` lists every problem. `${NAME}` is resolved before the spec is validated, so that
 * `url: ${API_BASE}/scan` is checked as the URL it becomes.
 */
export function parseDeclarativeJob(
  input: unknown,
  env: NodeJS.ProcessEnv,
  source: string,
  /** Checks every request of an http job (jobs registered over HTTP: kinds/egress.ts). */
  egress?: Egress,
): { job?: Job; problems: Problem[] } {
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    return {
      problems: [
        { path: [], message: "expected a mapping with name, schedule and one of http, command, sql" },
      ],
    };
  }
  const entry = input as Record<string, unknown>;
  const problems: Problem[] = [];
  const options = optionsSchema.safeParse(entry);
  if (!options.success) problems.push(...issuesToProblems(options.error));

  const kinds = KINDS.filter((kind) => entry[kind] !== undefined);
  if (kinds.length !== 1) {
    const got = kinds.length > 0 ? ` (got ${kinds.join(" and ")})` : "";
    problems.push({ path: [], message: `expected exactly one of ${KINDS.join(", ")}${got}` });
  }

  const { schedule, timezone = "UTC" } = entry;
  if (typeof schedule === "string" && schedule.trim() !== "" && typeof timezone === "string") {
    const problem = scheduleProblem(schedule, timezone);
    if (problem) {
      const field = problem.startsWith("unknown time zone") ? "timezone" : "schedule";
      problems.push({ path: [field], message: problem });
    }
  }

  let handler: JobHandler | undefined;
  let secrets: string[] = [];
  for (const kind of kinds) {
    const resolved = interpolate(entry[kind], env, BINDINGS[kind]);
    secrets = [...secrets, ...resolved.secrets];
    problems.push(...resolved.problems.map((p) => ({ path: [kind, ...p.path], message: p.message })));
    const spec = SPECS[kind].safeParse(resolved.value);
    // A field whose variable is unset is already reported; what it became says nothing more.
    const unset = new Set(resolved.problems.map((p) => JSON.stringify([kind, ...p.path])));
    if (!spec.success)
      problems.push(
        ...issuesToProblems(spec.error, [kind]).filter((p) => !unset.has(JSON.stringify(p.path))),
      );
    else if (kinds.length === 1 && resolved.problems.length === 0 && options.success)
      handler = build(kind, spec.data, options.data.timeout, resolved, egress);
  }

  if (problems.length > 0 || !handler || !options.success) {
    // A validator may quote what it was given; nothing that came from the environment goes out.
    return { problems: problems.map((p) => ({ ...p, message: scrub(p.message, secrets) })) };
  }
  for (const secret of secrets) registerSecret(secret);
  return { job: { ...toJob(options.data, handler, source), kind: kinds[0] }, problems: [] };
}

function build(
  kind: Kind,
  spec: unknown,
  timeoutMs: number,
  resolved: Interpolated<unknown>,
  egress: Egress | undefined,
): JobHandler {
  const { secrets, shellEnv, sqlParams } = resolved;
  if (kind === "http") return httpHandler(spec as z.output<typeof httpSpec>, secrets, egress);
  if (kind === "command") return commandHandler(spec as z.output<typeof commandSpec>, secrets, shellEnv);
  const sql = spec as z.output<typeof sqlSpec>;
  // The parameters of each statement, in the order the handler runs them.
  const params = sql.statements
    ? sql.statements.map((_, i) => sqlParams[JSON.stringify(["statements", i])] ?? [])
    : [sqlParams[JSON.stringify(["statement"])] ?? []];
  return sqlHandler(sql, timeoutMs, secrets, params);
}
