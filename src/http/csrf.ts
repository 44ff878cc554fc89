import { createHash, createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Config } from "../config.js";
import { safeEqual } from "./auth.js";
import { HttpError } from "./respond.js";

/*
 * Cross-site request forgery. A browser sends cached Basic credentials with any request to the
 * runner, whichever page started it, so every state-changing route refuses requests another site
 * made (docs/contract.md#http):
 * - a browser says who started a request: `Sec-Fetch-Site` other than same-origin (or none, typed by
 *   the user) and an `Origin` that is `null` or names another host than `Host` are refused;
 * - JSON routes take only `application/json`, which no form can send and no foreign page can send
 *   without a CORS preflight that the runner never allows;
 * - the console's forms carry a token only a page served by the runner holds.
 * Clients that are not browsers send neither header and are unaffected.
 */

/** The host of an Origin header; a malformed one is nobody's (refused, not a 500). */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** 403 for a request a browser made on behalf of another site (or of an opaque `null` origin). */
export function refuseCrossSite(req: IncomingMessage): void {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none")
    throw new HttpError(403, "cross-site request refused (Sec-Fetch-Site is not same-origin)");
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (origin === "null" || originHost(origin) !== req.headers.host)
    throw new HttpError(403, "cross-origin request refused (Origin does not match Host)");
}

/**
 * 415 unless the body is `application/json`. A request without a body and without a
 * Content-Type (`curl -X POST`) is accepted: there is nothing to interpret.
 */
export function requireJsonBody(req: IncomingMessage): void {
  const type = req.headers["content-type"];
  const hasBody =
    Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  if (type === undefined && !hasBody) return;
  const essence = (type ?? "").split(";")[0]!.trim().toLowerCase();
  if (essence !== "application/json")
    throw new HttpError(415, "Content-Type: expected application/json", {
      "accept-post": "application/json",
    });
}

const TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Replicas' clocks may differ a little: a token issued by one is good on another. */
const CLOCK_SKEW_SECONDS = 300;

/**
 * The console's form token: `<issued at>.<HMAC of it>`. The key comes from the admin password
 * when one is set (so every replica accepts every other's tokens), otherwise it is random per
 * process. Only a page served by the runner carries one: no other origin can read the page.
 */
export function pageTokens(config: Pick<Config, "adminPassword">, now = () => Date.now()) {
  const key = config.adminPassword
    ? createHash("sha256").update(`runner page token\0${config.adminPassword}`).digest()
    : randomBytes(32);
  const sign = (issued: string) => createHmac("sha256", key).update(issued).digest("base64url");
  return {
    issue(): string {
      const issued = String(Math.floor(now() / 1000));
      return `${issued}.${sign(issued)}`;
    },
    /** 403 unless `token` was issued by `issue` (here or on a replica) within the last 24 h. */
    check(token: string | null): void {
      const [issued = "", mac = ""] = (token ?? "").split(".");
      const age = Math.floor(now() / 1000) - Number(issued);
      const fresh = /^\d{1,12}$/.test(issued) && age <= TOKEN_LIFETIME_SECONDS && age >= -CLOCK_SKEW_SECONDS;
      // Compared even when stale, so the answer's timing says nothing about the signature.
      const signed = safeEqual(mac, sign(issued));
      if (!fresh || !signed)
        throw new HttpError(403, "the form's token is missing, wrong or expired: reload the console page");
    },
  };
}

export type PageTokens = ReturnType<typeof pageTokens>;
