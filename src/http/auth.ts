import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Config } from "../config.js";
import { HttpError } from "./respond.js";

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

const BASIC_CHALLENGE = { "www-authenticate": 'Basic realm="runner", charset="UTF-8"' };

function basicMatches(req: IncomingMessage, config: Config): boolean {
  const header = req.headers.authorization ?? "";
  if (!header.toLowerCase().startsWith("basic ")) return false;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
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

/**
 * Basic Auth for /v1/admin/* and /api/v1/*. In production, unset credentials answer 503 before
 * any comparison; elsewhere they leave the endpoint open (a development convenience, logged at
 * startup).
 */
export function requireAdmin(req: IncomingMessage, config: Config): void {
  refuseHalfConfigured(config);
  if (!basicConfigured(config)) {
    if (config.runnerEnv === "production")
      throw new HttpError(
        503,
        "admin credentials are not configured (ADMIN_BASIC_USERNAME/ADMIN_BASIC_PASSWORD)",
      );
    return;
  }
  if (!basicMatches(req, config)) throw new HttpError(401, "authentication required", BASIC_CHALLENGE);
}

/** The trigger endpoint: `x-internal-secret` = INTERNAL_SECRET, or the admin Basic credentials. */
export function requireTrigger(req: IncomingMessage, config: Config): void {
  const secret = config.internalSecret;
  const given = req.headers["x-internal-secret"];
  if (!secret && config.runnerEnv === "production")
    throw new HttpError(503, "INTERNAL_SECRET is not configured");
  if (!secret) refuseHalfConfigured(config);
  if (!secret && !basicConfigured(config)) return;
  if (secret && typeof given === "string" && safeEqual(given, secret)) return;
  if (basicConfigured(config) && basicMatches(req, config)) return;
  throw new HttpError(
    401,
    "a valid x-internal-secret or Basic credentials are required",
    basicConfigured(config) ? BASIC_CHALLENGE : {},
  );
}
