import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIPv4 } from "node:net";
import type { Config } from "../config.js";
import { HttpError } from "./respond.js";

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

const BASIC_CHALLENGE = { "www-authenticate": 'Basic realm="runner", charset="UTF-8"' };

/**
 * `Basic <base64 of user:password>`, strictly: Node's base64 decoder skips what it does not know
 * and stops at padding, so `Basic <valid>garbage` decoded to the valid credentials. The token must
 * be canonical base64 (it encodes back to itself) of valid UTF-8.
 */
function basicCredentials(header: string): string | undefined {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return undefined;
  const token = match[1]!;
  const bytes = Buffer.from(token, "base64");
  if (bytes.toString("base64") !== token) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function basicMatches(req: IncomingMessage, config: Config): boolean {
  const decoded = basicCredentials(req.headers.authorization ?? "");
  if (decoded === undefined) return false;
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  // Both comparisons always run, so the answer's timing does not say which half was wrong.
  const user = safeEqual(decoded.slice(0, colon), config.adminUsername ?? "");
  const password = safeEqual(decoded.slice(colon + 1), config.adminPassword ?? "");
  return user && password;
}

const basicConfigured = (config: Config) => !!config.adminUsername && !!config.adminPassword;

/**
 * One of the two set is a mistake, not a choice to leave the endpoints open: answer 503 in every
 * environment rather than open them (or accept an empty password).
 */
function refuseHalfConfigured(config: Config): void {
  if (!config.adminUsername !== !config.adminPassword)
    throw new HttpError(503, "set both ADMIN_BASIC_USERNAME and ADMIN_BASIC_PASSWORD, or neither");
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  const v4 = bare.replace(/^::ffff:/, "");
  return isIPv4(v4) && v4.startsWith("127.");
}

/**
 * How an endpoint whose credentials are unset answers (docs/contract.md#authentication):
 * `open` with ADMIN_AUTH=none; `local` (open, to this machine's names only) when the listener is
 * bound to loopback outside production; `closed` (503) otherwise.
 */
export function unsetCredentials(config: Config): "open" | "local" | "closed" {
  if (config.adminAuth === "none") return "open";
  return config.runnerEnv !== "production" && isLoopback(config.httpHost) ? "local" : "closed";
}

/**
 * Open to loopback only: a page on a name that resolves to 127.0.0.1 (DNS rebinding) would be
 * same-origin with itself, so the Host it sends must be a loopback name as well.
 */
function allowWithoutCredentials(req: IncomingMessage, config: Config): void {
  const mode = unsetCredentials(config);
  if (mode === "closed")
    throw new HttpError(
      503,
      "admin credentials are not configured (ADMIN_BASIC_USERNAME/ADMIN_BASIC_PASSWORD); without them only a loopback HTTP_HOST outside production, or ADMIN_AUTH=none, opens this endpoint",
    );
  const host = (req.headers.host ?? "").replace(/:\d+$/, "");
  if (mode === "local" && !isLoopback(host))
    throw new HttpError(
      403,
      "without credentials this endpoint answers only to a loopback Host (localhost, 127.0.0.1, [::1])",
    );
}

/** Basic Auth for /v1/admin/*, /api/v1/* and the console; unset credentials: see unsetCredentials. */
export function requireAdmin(req: IncomingMessage, config: Config): void {
  refuseHalfConfigured(config);
  if (!basicConfigured(config)) allowWithoutCredentials(req, config);
  else if (!basicMatches(req, config)) throw new HttpError(401, "authentication required", BASIC_CHALLENGE);
}

/**
 * The trigger endpoint: `x-internal-secret` = INTERNAL_SECRET, or the admin Basic credentials.
 * In production it answers 503 while INTERNAL_SECRET is unset (unless ADMIN_AUTH=none).
 */
export function requireTrigger(req: IncomingMessage, config: Config): void {
  const secret = config.internalSecret;
  if (!secret) {
    if (config.runnerEnv === "production" && config.adminAuth !== "none")
      throw new HttpError(503, "INTERNAL_SECRET is not configured");
    requireAdmin(req, config);
    return;
  }
  const given = req.headers["x-internal-secret"];
  if (typeof given === "string" && safeEqual(given, secret)) return;
  if (basicConfigured(config) && basicMatches(req, config)) return;
  throw new HttpError(
    401,
    "a valid x-internal-secret or Basic credentials are required",
    basicConfigured(config) ? BASIC_CHALLENGE : {},
  );
}
