import { z } from "zod";
import { formatDuration } from "../util/duration.js";
import { errorMessage } from "../errors.js";
import type { JobContext, JobHandler } from "../types.js";
import { durationField } from "./fields.js";
import { scrubbing } from "./interpolate.js";
import { type Answer, fetchFollowing } from "./redirects.js";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The `http:` spec of a jobs-file entry, validated after `${NAME}` interpolation. */
export const httpSpec = z
  .object({
    // Case-insensitive: "post" in a YAML file is no reason to refuse to start.
    method: z
      .string()
      .transform((method) => method.toUpperCase())
      .pipe(z.enum(METHODS, { error: `expected one of ${METHODS.join(", ")}` }))
      .default("GET"),
    url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
    // YAML reads `x-count: 5` as a number; a header is text either way. A name that is not a token,
    // or CR/LF/NUL in a value, would fail every run (fetch refuses them): refused at load instead.
    headers: z
      .record(
        z
          .string()
          .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "a header name is letters, digits and !#$%&'*+-.^_`|~"),
        z
          .union([z.string(), z.number(), z.boolean()])
          .transform(String)
          .refine((value) => !/[\r\n\0]/.test(value), "a header value must not contain CR, LF or NUL"),
      )
      .default({}),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    timeout: durationField.optional(),
    expect: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    follow_redirects: z
      .union([z.boolean(), z.literal("any")], { error: 'expected true, false or "any"' })
      .default(false),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // fetch would throw this at every run; say it once, at load time.
    if (spec.body !== undefined && (spec.method === "GET" || spec.method === "HEAD"))
      ctx.addIssue({
        code: "custom",
        path: ["body"],
        message: `a ${spec.method} request cannot have a body`,
      });
  });

export type HttpSpec = z.output<typeof httpSpec>;

const PREVIEW_CHARS = 1024;
const ERROR_CHARS = 200;
// A UTF-8 character takes at most 4 bytes, so this many bytes always hold the first 1024 characters.
const READ_BYTES = PREVIEW_CHARS * 4;

/**
 * Call an endpoint, as a cron line with curl would. Success is an expected status (any 2xx by
 * default); the status and the first 1024 characters of the answer are kept with the run.
 * Redirects are not followed unless `follow_redirects` says so (redirects.ts): a 3xx is the
 * answer, kept with its `location`.
 * Without its own `timeout` the request lives as long as the run: ctx.signal aborts at the job's
 * timeout and at shutdown.
 */
export function httpHandler(
  spec: HttpSpec,
  secrets: readonly string[] = [],
  egress?: (url: URL) => Promise<void>,
): JobHandler {
  const headers = { ...spec.headers };
  let body: string | undefined;
  if (typeof spec.body === "string") body = spec.body;
  else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  // The slot's key, so the endpoint can drop a retry or a second replica's call; the job's own wins.
  const ownKey = Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key");
  const target = `${spec.method} ${spec.url}`;
  const expected = (status: number) =>
    spec.expect ? spec.expect.includes(status) : status >= 200 && status < 300;

  return scrubbing(secrets, async (ctx: JobContext) => {
    const timeout = spec.timeout === undefined ? undefined : AbortSignal.timeout(spec.timeout);
    const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
    const failed = (error: unknown) => {
      let reason: string;
      if (timeout?.aborted) reason = `no answer within ${formatDuration(spec.timeout!)}`;
      else if (ctx.signal.aborted) reason = errorMessage(ctx.signal.reason);
      else reason = causeOf(error);
      return new Error(`${target} failed: ${reason}`);
    };
    let answer: Answer;
    let text: string;
    try {
      const sent = ownKey ? headers : { ...headers, "idempotency-key": ctx.idempotencyKey };
      answer = await fetchFollowing(
        spec.url,
        { method: spec.method, headers: sent, body, signal },
        spec.follow_redirects,
        egress,
      );
      text = await readPreview(answer.response);
    } catch (error) {
      throw failed(error);
    }
    const { response, location } = answer;
    if (!expected(response.status)) {
      const preview = text.slice(0, ERROR_CHARS).replace(/\s+/g, " ").trim();
      const redirect = location === undefined ? "" : ` (redirect to ${location} not followed)`;
      throw new Error(`${target} answered ${response.status}${redirect}${preview ? `: ${preview}` : ""}`);
    }
    const result = { status: response.status, body: text.slice(0, PREVIEW_CHARS) };
    return location === undefined ? result : { ...result, location };
  });
}

/** fetch says "fetch failed"; the reason ("connect ECONNREFUSED ...") is in its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  // Happy eyeballs (localhost: ::1 and 127.0.0.1) fails with an AggregateError of each attempt.
  if (cause instanceof AggregateError && cause.errors.length > 0)
    return [...new Set(cause.errors.map(errorMessage))].join("; ");
  return errorMessage(cause);
}

/** Read only what the preview needs, then stop: a huge answer must not be downloaded for 1 KiB. */
async function readPreview(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, READ_BYTES));
}
