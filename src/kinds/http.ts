import { z } from "zod";
import { parseDuration } from "../duration.js";
import { errorMessage } from "../errors.js";
import type { JobContext } from "../types.js";

export const httpSpec = z
  .object({
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("GET"),
    url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    timeout: z
      .union([z.string(), z.number()])
      .optional()
      .refine((v) => v === undefined || parseDuration(v) !== undefined, 'expected a duration such as "30s"'),
    expect: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  })
  .strict();

export type HttpSpec = z.output<typeof httpSpec>;

const BODY_PREVIEW = 1024;

/**
 * Call an endpoint, as a cron line with curl would. Success is the expected status (any 2xx by
 * default); the status and the first 1 KiB of the answer are kept with the run.
 */
export function httpHandler(spec: HttpSpec, jobTimeoutMs: number) {
  const timeoutMs = spec.timeout === undefined ? jobTimeoutMs : parseDuration(spec.timeout)!;
  const headers = { ...spec.headers };
  let body: string | undefined;
  if (typeof spec.body === "string") body = spec.body;
  else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  return async (ctx: JobContext) => {
    const target = `${spec.method} ${spec.url}`;
    let response: Response;
    try {
      response = await fetch(spec.url, {
        method: spec.method,
        headers,
        body,
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
        redirect: "follow",
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new Error(`${target} failed: ${errorMessage(cause ?? error)}`);
    }
    const text = await response.text().catch(() => "");
    const preview = text.slice(0, BODY_PREVIEW);
    const ok = spec.expect
      ? spec.expect.includes(response.status)
      : response.status >= 200 && response.status < 300;
    if (!ok) throw new Error(`${target} answered ${response.status}: ${preview.slice(0, 200)}`);
    return { status: response.status, body: preview };
  };
}
