import { scrub, scrubValue } from "../util/secrets.js";

/**
 * `${NAME}` references in a job's spec pull values from the environment. Every value pulled in
 * is treated as a secret: it is redacted from logs, results and error messages.
 */
export interface Interpolated<T> {
  value: T;
  secrets: string[];
  /** One per unset reference, at the path of the string that holds it. */
  problems: { path: (string | number)[]; message: string }[];
}

// `$${NAME}` is an escape for a literal `${NAME}`, so a shell line can still use its own expansion.
const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Same threshold as the log redaction (log.ts): a 1-3 character value ("1", "GET") would turn every
 * occurrence in a result into [REDACTED], and the logs would not hide it anyway.
 */
const MIN_SECRET_LENGTH = 4;

/** Replace `${NAME}` in every string value (keys are left alone) of a JSON-like value. */
export function interpolate<T>(spec: T, env: NodeJS.ProcessEnv): Interpolated<T> {
  const secrets = new Set<string>();
  const problems: Interpolated<T>["problems"] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      return node.replace(REFERENCE, (_match, escaped: string, name: string) => {
        if (escaped) return `\${${name}}`;
        const value = env[name];
        if (value === undefined) {
          problems.push({ path, message: `environment variable ${name} is not set` });
          return "";
        }
        if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
        return value;
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => [key, walk(value, [...path, key])]),
      );
    }
    return node;
  };
  const value = walk(spec, []) as T;
  return { value, secrets: [...secrets], problems };
}

/**
 * Wrap a handler so that its result and its error (message, stack and any `result` attached to
 * it) never carry a secret. Every kind goes through this, so no code path can forget it.
 */
export function scrubbing<C>(
  secrets: readonly string[],
  handler: (ctx: C) => Promise<unknown>,
): (ctx: C) => Promise<unknown> {
  if (secrets.length === 0) return handler;
  return async (ctx) => {
    try {
      return scrubValue(await handler(ctx), secrets);
    } catch (error) {
      if (error instanceof Error) {
        error.message = scrub(error.message, secrets);
        if (error.stack) error.stack = scrub(error.stack, secrets);
        const attached = error as Error & { result?: unknown };
        if (attached.result !== undefined) attached.result = scrubValue(attached.result, secrets);
      }
      throw error;
    }
  };
}
