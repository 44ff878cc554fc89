/**
 * `${NAME}` references in a job's spec pull values from the environment. Every value pulled in
 * is treated as a secret: it is redacted from logs, results and error messages.
 */
export interface Interpolated<T> {
  value: T;
  secrets: string[];
  /** "<path>: environment variable NAME is not set", one per missing reference. */
  problems: { path: (string | number)[]; message: string }[];
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function interpolate<T>(spec: T, env: NodeJS.ProcessEnv): Interpolated<T> {
  const secrets = new Set<string>();
  const problems: Interpolated<T>["problems"] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      return node.replace(REFERENCE, (_match, name: string) => {
        const value = env[name];
        if (value === undefined) {
          problems.push({ path, message: `environment variable ${name} is not set` });
          return "";
        }
        if (value.length > 0) secrets.add(value);
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

/** Replace every secret in a text by [REDACTED]. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets)
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join("[REDACTED]");
  return out;
}

/** Scrub every string inside a JSON-like value. */
export function scrubValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, secrets)])) as T;
  }
  return value;
}

/** Wrap a handler so its result and its error message never carry a secret. */
export function scrubbing<C>(
  secrets: readonly string[],
  handler: (ctx: C) => Promise<unknown>,
): (ctx: C) => Promise<unknown> {
  return async (ctx) => {
    try {
      return scrubValue(await handler(ctx), secrets);
    } catch (error) {
      if (error instanceof Error) {
        error.message = scrub(error.message, secrets);
        if (error.stack) error.stack = scrub(error.stack, secrets);
      }
      throw error;
    }
  };
}
