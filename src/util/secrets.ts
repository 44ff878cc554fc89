/**
 * The one scrubber of secrets. Known secret values (the database password, admin password,
 * internal secret, `${NAME}` values of jobs files, ...) are registered once; whatever path they
 * travel (a log line, a run result, an error text), `scrub` replaces them with [REDACTED]:
 * field-path redaction alone misses secrets inside messages and error texts.
 */
const known = new Set<string>();

/** Values under 4 characters are not secrets worth the name, and would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) known.add(value);
}

export function registeredSecrets(): readonly string[] {
  return [...known];
}

/**
 * The forms a secret takes on its way out: as is, percent-encoded (fetch normalises URLs, servers
 * echo query strings) and JSON-escaped (a body object sent as JSON and echoed back).
 */
function forms(secret: string): string[] {
  const all = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  // Longest first, so a longer form is not half-replaced through a shorter one it contains.
  return [...all].sort((a, b) => b.length - a.length);
}

/** Replace every secret (by default every registered one) in a text by [REDACTED]. */
export function scrub(text: string, secrets: Iterable<string> = known): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of forms(secret)) if (out.includes(form)) out = out.split(form).join("[REDACTED]");
  }
  return out;
}

/** Scrub every string inside a JSON-like value. */
export function scrubValue<T>(value: T, secrets: readonly string[] = [...known]): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, secrets)])) as T;
  }
  return value;
}
