import { z } from "zod";

/*
 * Parsers of environment values. Each carries, as its zod description, the values it accepts in
 * words: the documentation of every variable (.env.example, the README) shows that text, so what
 * is documented is what is checked.
 */

export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["true", "false", "1", "0", "yes", "no", "on", "off"].includes(v), "expected true or false")
  .transform((v) => ["true", "1", "yes", "on"].includes(v))
  .describe("true | false");

export function int(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected an integer from ${min} to ${max}`)
    .describe(`${min}..${max}`);
}

function url(protocols: string[], message: string, values: string) {
  return z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, message)
    .describe(values);
}

export const httpUrl = url(["http:", "https:"], "expected an http:// or https:// URL", "http(s):// URL");

export const postgresUrl = url(["postgres:", "postgresql:"], "expected a postgres:// URL", "postgres:// URL");

/** Any text but blank, at most `max` characters. */
export function text(max?: number) {
  const nonEmpty = z.string().trim().min(1, "must not be empty");
  return max === undefined
    ? nonEmpty.describe("text")
    : nonEmpty.max(max).describe(`text, up to ${max} characters`);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values).describe(values.join(" | "));
}

export const sqlIdentifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case SQL identifier")
  .describe("lower-case SQL identifier");

/** Comma-separated paths, blanks dropped. */
export const pathList = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .describe("comma-separated paths");

/** "reports=2,etl=1": each mutual-exclusion group's limit of runs at once, across replicas. */
export const groupLimits = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const limits: Record<string, number> = {};
    for (const part of value
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const match = /^([a-z][a-z0-9_-]{0,62})=(\d{1,6})$/.exec(part);
      if (!match || Number(match[2]) < 1) {
        ctx.addIssue({
          code: "custom",
          message: `expected name=N pairs, N from 1; ${JSON.stringify(part)} is not one`,
        });
        return z.NEVER;
      }
      limits[match[1]!] = Number(match[2]);
    }
    return limits;
  })
  .describe("name=N,...");
/** Comma-separated host names, IP addresses or ".suffixes" (any host under it), lower-cased. */
export const hostList = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine(
    (hosts) => hosts.every((host) => /^(\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(host)),
    'expected comma-separated host names, IP addresses or ".suffixes" (no scheme, port or path)',
  )
  .describe("comma-separated hosts and .suffixes");
