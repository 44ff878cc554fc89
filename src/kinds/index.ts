import { z } from "zod";
import { jobOptionsShape, toJob } from "../job-schema.js";
import { registerSecret } from "../log.js";
import { scheduleProblem } from "../schedule.js";
import type { Job, JobContext } from "../types.js";
import { commandHandler, commandSpec } from "./command.js";
import { httpHandler, httpSpec } from "./http.js";
import { interpolate, scrubbing } from "./interpolate.js";
import { sqlHandler, sqlSpec } from "./sql.js";

export const KINDS = ["http", "command", "sql"] as const;
export type Kind = (typeof KINDS)[number];

/** One declarative job: every option of a code job plus exactly one kind. */
export const declarativeJob = z
  .object({
    ...jobOptionsShape,
    http: httpSpec.optional(),
    command: commandSpec.optional(),
    sql: sqlSpec.optional(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const kinds = KINDS.filter((kind) => job[kind] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `expected exactly one of ${KINDS.join(", ")}${kinds.length ? ` (got ${kinds.join(" and ")})` : ""}`,
      });
    }
    const problem = scheduleProblem(job.schedule, job.timezone);
    if (problem)
      ctx.addIssue({
        code: "custom",
        path: problem.startsWith("unknown time zone") ? ["timezone"] : ["schedule"],
        message: problem,
      });
  });

export type DeclarativeJob = z.output<typeof declarativeJob>;

export interface BuiltJob {
  job?: Job;
  problems: { path: (string | number)[]; message: string }[];
}

/**
 * Turn a validated declarative job into a Job: resolve `${NAME}` references (an unset variable is
 * a problem), register their values as secrets (redacted from logs) and scrub them from results
 * and errors.
 */
export function buildDeclarativeJob(
  parsed: DeclarativeJob,
  env: NodeJS.ProcessEnv,
  source: string,
): BuiltJob {
  const kind = KINDS.find((k) => parsed[k] !== undefined)!;
  const { value, secrets, problems } = interpolate(parsed[kind]!, env);
  if (problems.length > 0)
    return { problems: problems.map((p) => ({ path: [kind, ...p.path], message: p.message })) };
  for (const secret of secrets) registerSecret(secret);
  let handler: (ctx: JobContext) => Promise<unknown>;
  if (kind === "http") handler = httpHandler(value as z.output<typeof httpSpec>, parsed.timeout);
  else if (kind === "command") handler = commandHandler(value as z.output<typeof commandSpec>);
  else handler = sqlHandler(value as z.output<typeof sqlSpec>, parsed.timeout);
  return { job: toJob(parsed, scrubbing(secrets, handler), source), problems: [] };
}
