import { z } from "zod";
import { parseDuration } from "../util/duration.js";
import { dstPolicy, scheduleProblem } from "../schedule/cron.js";
import { type Job, type JobHandler, type JobInput, RUNNER_ROW, type RetryOptions } from "../types.js";

export const JOB_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as "30s", "10m", "1h" or milliseconds (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return ms;
});

const retries = z.union([
  z.number().int().min(1).max(100),
  z
    .object({
      attempts: z.number().int().min(1).max(100).default(1),
      backoff: z.enum(["exponential", "fixed"]).default("exponential"),
      initial: duration.default(30_000),
      max: duration.default(3_600_000),
    })
    .strict(),
]);

/**
 * Every option a job may have, apart from what it runs. Shared by code jobs, jobs files and the
 * scheduler API, so the three are validated alike and report the same field paths.
 */
export const jobOptionsShape = {
  name: z
    .string()
    .regex(
      JOB_NAME,
      "expected lower-case letters, digits, _ or -, starting with a letter, at most 63 characters",
    )
    // The loop's own row in job_heartbeats.
    .refine((name) => name !== RUNNER_ROW, `"${RUNNER_ROW}" is reserved for the loop's heartbeat`),
  schedule: z.string().min(1, "must not be empty"),
  timezone: z.string().default("UTC"),
  timeout: duration.default(3_600_000),
  retries: retries.default(1),
  overlap: z.enum(["skip", "allow"]).default("skip"),
  concurrency: z.number().int().min(1).max(100_000).optional(),
  group: z.string().regex(JOB_NAME, "expected a group name like a job name").optional(),
  jitter: duration.optional(),
  catchUp: z.enum(["none", "latest", "all"]).default("latest"),
  // Unset fields take the schedule's default (schedule/dst.ts), filled in by toJob.
  dst: z
    .object({
      repeated: z.enum(["first", "last", "both"]).optional(),
      skipped: z.enum(["shift", "skip"]).optional(),
    })
    .strict()
    .optional(),
  misfireGraceSeconds: z
    .number()
    .int()
    .min(0)
    .max(31 * 86400)
    .default(3600),
  description: z.string().max(1000).default(""),
  ping: z.url({ protocol: /^https?$/ }).optional(),
  enabled: z.boolean().default(true),
  pauseAfterFailures: z.number().int().min(1).max(1000).optional(),
};

const codeJobSchema = z
  .object({
    ...jobOptionsShape,
    run: z.custom<JobHandler>((v) => typeof v === "function", "expected a function"),
  })
  .strict()
  .superRefine((job, ctx) => {
    const problem = scheduleProblem(job.schedule, job.timezone);
    if (problem)
      ctx.addIssue({
        code: "custom",
        path: problem.startsWith("unknown time zone") ? ["timezone"] : ["schedule"],
        message: problem,
      });
  });

type ParsedOptions = z.output<z.ZodObject<typeof jobOptionsShape>>;

function retryOptions(value: ParsedOptions["retries"]): RetryOptions {
  if (typeof value === "number")
    return { attempts: value, backoff: "exponential", initialMs: 30_000, maxMs: 3_600_000 };
  return { attempts: value.attempts, backoff: value.backoff, initialMs: value.initial, maxMs: value.max };
}

/** Turn parsed options and a handler into a Job with every default applied. */
export function toJob(options: ParsedOptions, run: JobHandler, source: string): Job {
  return {
    name: options.name,
    schedule: options.schedule.trim(),
    timezone: options.timezone,
    timeoutMs: options.timeout,
    retries: retryOptions(options.retries),
    overlap: options.overlap,
    concurrency: options.concurrency,
    group: options.group,
    jitterMs: options.jitter ?? 0,
    catchUp: options.catchUp,
    dst: dstPolicy(options.schedule.trim(), options.dst),
    misfireGraceSeconds: options.misfireGraceSeconds,
    description: options.description,
    ping: options.ping,
    enabled: options.enabled,
    pauseAfterFailures: options.pauseAfterFailures,
    source,
    run,
  };
}

/** One line per zod issue: "<where>: <path>: <message>". */
export function formatIssues(where: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return `${where}: ${path}${issue.message}`;
  });
}

/**
 * Validate a code job (a defineJob result or a plain object of the same shape).
 * Returns the job or the problems, each naming `where` and the field.
 */
export function parseCodeJob(
  input: unknown,
  where: string,
  source: string,
): { job?: Job; problems: string[] } {
  const result = codeJobSchema.safeParse(input);
  if (!result.success) {
    // JSON-quoted and cut: a name with quotes or a newline must not break the one-line message.
    const raw = (input as { name?: unknown })?.name;
    const name = typeof raw === "string" ? ` ${JSON.stringify(raw.slice(0, 80))}` : "";
    return { problems: formatIssues(`${where}${name}`, result.error) };
  }
  return { job: toJob(result.data, result.data.run, source), problems: [] };
}

/** Types only: lets editors check a job definition. A plain object of the same shape works too. */
export function defineJob(job: JobInput): JobInput {
  return job;
}
