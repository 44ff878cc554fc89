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
  /** Shell lines: the values their `${NAME}` references stand for, for the child's environment. */
  shellEnv: Record<string, string>;
  /** SQL statements, by the JSON of their path: the values bound to their `$1`, `$2`, ... */
  sqlParams: Record<string, string[]>;
}

/**
 * How a string takes its `${NAME}` values. `splice` (URLs, headers, argv, env): the value replaces
 * the reference. `shell` (a shell line): the reference stays, as the shell's own `${NAME}`, and
 * the value goes into the child's environment, so it is data, never code, and not in `ps`.
 * `sql` (a statement): the reference becomes a bound parameter `$n`, never SQL text.
 */
export type Binding = "splice" | "shell" | "sql";

// `$${NAME}` is an escape for a literal `${NAME}`, so a shell line can still use its own expansion.
const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Same threshold as the log redaction (log.ts): a 1-3 character value ("1", "GET") would turn every
 * occurrence in a result into [REDACTED], and the logs would not hide it anyway.
 */
const MIN_SECRET_LENGTH = 4;

/** Replace `${NAME}` in every string value (keys are left alone) of a JSON-like value. */
export function interpolate<T>(
  spec: T,
  env: NodeJS.ProcessEnv,
  binding: (path: (string | number)[]) => Binding = () => "splice",
): Interpolated<T> {
  const secrets = new Set<string>();
  const problems: Interpolated<T>["problems"] = [];
  const shellEnv: Record<string, string> = {};
  const sqlParams: Record<string, string[]> = {};
  const lookup = (name: string, path: (string | number)[]): string | undefined => {
    const value = env[name];
    if (value === undefined) problems.push({ path, message: `environment variable ${name} is not set` });
    else if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
    return value;
  };
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      const how = binding(path);
      if (how === "sql")
        return bindSql(node, path, lookup, problems, (params) => {
          if (params.length > 0) sqlParams[JSON.stringify(path)] = params;
        });
      return node.replace(REFERENCE, (_match, escaped: string, name: string) => {
        if (escaped) return `\${${name}}`;
        const value = lookup(name, path) ?? "";
        if (how === "splice") return value;
        shellEnv[name] = value;
        return `\${${name}}`;
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
  return { value, secrets: [...secrets], problems, shellEnv, sqlParams };
}

/**
 * A statement's references become `$1`, `$2`, ... (one per name) with their values as parameters.
 * `'${NAME}'`, a whole quoted literal, is taken for the parameter it means; a reference inside a
 * longer literal cannot be bound, and is refused with the way to write it.
 */
function bindSql(
  text: string,
  path: (string | number)[],
  lookup: (name: string, path: (string | number)[]) => string | undefined,
  problems: Interpolated<unknown>["problems"],
  done: (params: string[]) => void,
): string {
  const params: string[] = [];
  const numbers = new Map<string, number>();
  const out = text.replace(
    /('?)\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}('?)/g,
    (match, open: string, escaped: string, name: string, close: string, offset: number) => {
      if (escaped) return `${open}\${${name}}${close}`;
      const whole = open === "'" && close === "'";
      // An odd number of quotes before the reference (doubled quotes count twice): inside a literal.
      const quotesBefore = (text.slice(0, offset + open.length).match(/'/g) ?? []).length;
      if (!whole && quotesBefore % 2 === 1) {
        problems.push({
          path,
          message: `\${${name}} inside a quoted literal cannot be bound as a parameter; write it unquoted (e.g. 'prefix-' || \${${name}})`,
        });
        return match;
      }
      const value = lookup(name, path);
      if (value === undefined) return match;
      let number = numbers.get(name);
      if (number === undefined) {
        params.push(value);
        number = params.length;
        numbers.set(name, number);
      }
      return whole ? `$${number}` : `${open}$${number}${close}`;
    },
  );
  done(params);
  return out;
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
