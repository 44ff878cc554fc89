import postgres, { type Sql } from "postgres";
import { DatabaseRefusedError, DatabaseUnreachableError, errorMessage } from "../errors.js";
import { backoffDelay, retry } from "../util/retry.js";
import { scrub } from "../util/secrets.js";

export type { Sql };

export interface ConnectOptions {
  url: string;
  schema: string;
  /** How long to keep retrying an unreachable server, in seconds. */
  startupTimeoutSeconds: number;
  max?: number;
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
}

/** The directory of a Unix socket given libpq's way, `?host=/path/to/dir`; else undefined. */
function socketDirectory(parsed: URL): string | undefined {
  const host = parsed.searchParams.get("host");
  return host?.startsWith("/") ? host : undefined;
}

/**
 * "postgres://user:secret@db:5432/app" -> "db:5432/app": what a log line or error may show.
 * Over a Unix socket (`?host=/dir`), the directory stands for the host.
 */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = socketDirectory(parsed) ?? parsed.hostname;
    return `${host}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/**
 * postgres.js takes a Unix socket as the `path` option (and would send a `host` query parameter to
 * the server as a setting): the URL without it, and the socket's path. Other URLs pass unparsed
 * (postgres.js also accepts multi-host ones, which URL does not).
 */
function driverTarget(url: string): [string, { path?: string }] {
  if (!/[?&]host=/.test(url)) return [url, {}];
  const parsed = new URL(url);
  const socket = socketDirectory(parsed);
  if (!socket) return [url, {}];
  parsed.searchParams.delete("host");
  return [parsed.toString(), { path: `${socket}/.s.PGSQL.${parsed.port || "5432"}` }];
}

/** A pool whose search_path is the runner's schema, so every statement uses unqualified names. */
export function createPool(url: string, schema: string, max = 10): Sql {
  const [target, socket] = driverTarget(url);
  return postgres(target, {
    ...socket,
    max,
    onnotice: () => {},
    connection: { search_path: schema, application_name: "runner" },
    // Types of bigint ids: keep them as strings, they cross JSON boundaries.
    types: {},
    // Short enough that a connection attempt caught in a server restart gives up and retries soon.
    connect_timeout: 5,
    // postgres.js waits up to 20 s between reconnects once errors pile up (3^n/100 s), so after a
    // 6 s outage queries stalled for another 10-15 s. At most 1 s: readiness comes back within a loop.
    // In seconds; jittered like every other backoff, so replicas do not reconnect in lockstep.
    backoff: (retries: number) => backoffDelay(retries, { initialMs: 100, maxMs: 1000 }) / 1000,
    idle_timeout: 0,
  });
}

/** SQLSTATEs no retry can fix, with what the user should do about each. */
const FINAL: Record<string, string> = {
  "28P01": "check the user name and password",
  "28000": "check the user name and the server's pg_hba.conf",
  "3D000": "create the database or fix its name",
  "42501": "grant the user the missing privilege",
};

/**
 * A DatabaseRefusedError when `error` is one of the server's final answers (wrong password, no such
 * database, no permission), naming the host and the reason, never the password; else undefined.
 */
export function refusal(
  error: unknown,
  url: string,
  during = "refused the connection",
): DatabaseRefusedError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !Object.hasOwn(FINAL, code)) return undefined;
  const reason = scrubPassword(errorMessage(error), url);
  return new DatabaseRefusedError(
    `database ${describeUrl(url)} ${during}: ${reason} (SQLSTATE ${code}); ${FINAL[code]}`,
  );
}

/**
 * Connect, retrying with jittered exponential backoff (up to 250 ms, doubling to 5 s; see
 * backoffDelay) until the startup window closes. The error names the host, never the password.
 * A final answer (see refusal) is not retried.
 */
export async function connect(options: ConnectOptions): Promise<Sql> {
  const deadline = Date.now() + options.startupTimeoutSeconds * 1000;
  const reason = (error: unknown) => scrubPassword(errorMessage(error), options.url);
  try {
    return await retry(
      async () => {
        const sql = createPool(options.url, options.schema, options.max);
        try {
          await sql`select 1`;
          return sql;
        } catch (error) {
          await sql.end({ timeout: 0 }).catch(() => {});
          throw error;
        }
      },
      {
        initialMs: 250,
        maxMs: 5000,
        giveUp: ({ error, delayMs }) =>
          refusal(error, options.url) !== undefined || Date.now() + delayMs > deadline,
        onError: ({ error, attempt, delayMs }) => options.onRetry?.(attempt, delayMs, reason(error)),
      },
    );
  } catch (error) {
    const refused = refusal(error, options.url);
    if (refused) throw refused;
    throw new DatabaseUnreachableError(
      `database ${describeUrl(options.url)} unreachable for ${options.startupTimeoutSeconds}s: ${reason(error)}`,
    );
  }
}

/** Remove the URL's password from a driver message, should a driver ever echo it. */
function scrubPassword(message: string, url: string): string {
  try {
    const password = new URL(url).password;
    return password ? scrub(message, [decodeURIComponent(password)]) : message;
  } catch {
    return message;
  }
}
