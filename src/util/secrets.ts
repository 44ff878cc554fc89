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

/** The secrets of the configuration, by their Config names (util/ does not import config.ts). */
export interface ConfiguredSecrets {
  databaseUrl?: string;
  adminPassword?: string;
  internalSecret?: string;
  alertWebhookUrl?: string;
  heartbeatPingUrl?: string;
}

/**
 * Register every secret the configuration holds: the database password, the admin password, the
 * internal secret, and the credentials and tokens of the webhook and ping URLs. Called wherever a
 * configuration is loaded (the CLI's prepare, the Daemon), so every mode scrubs them.
 */
export function registerConfigSecrets(config: ConfiguredSecrets): void {
  registerSecret(config.adminPassword);
  registerSecret(config.internalSecret);
  for (const value of urlSecrets(config.databaseUrl, false)) registerSecret(value);
  for (const url of [config.alertWebhookUrl, config.heartbeatPingUrl])
    for (const value of urlSecrets(url, true)) registerSecret(value);
}

/** Query keys whose values are credentials whatever they look like. */
const CREDENTIAL_KEY = /token|key|secret|sig|pass|auth|code|credential/i;

/**
 * What looks like a token rather than a word: 8+ characters mixing letters and digits or cases,
 * or 20+ of anything ("T0AB12CD", a UUID, base64). "services", "heartbeat" or "production" are not.
 */
function looksLikeToken(value: string): boolean {
  if (value.length >= 20) return true;
  if (value.length < 8) return false;
  return (/\d/.test(value) && /[a-z]/i.test(value)) || (/[a-z]/.test(value) && /[A-Z]/.test(value));
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The secret parts of a URL: the password; with `tokens`, also the user name (`https://TOKEN@host`),
 * path segments that look like tokens (Slack's /services/T../B../xxx,
 * /ping/<uuid>) and query values (those under a credential-like key always, others that look
 * like tokens). A database URL's user name ("postgres") and path (the database) are no secrets.
 */
export function urlSecrets(url: string | undefined, tokens: boolean): string[] {
  if (!url) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const found = [decoded(parsed.password)];
  if (!tokens) return found.filter(Boolean);
  found.push(decoded(parsed.username));
  for (const segment of parsed.pathname.split("/").map(decoded))
    if (looksLikeToken(segment)) found.push(segment);
  for (const [key, value] of parsed.searchParams)
    if (CREDENTIAL_KEY.test(key) || looksLikeToken(value)) found.push(value);
  return found.filter(Boolean);
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
