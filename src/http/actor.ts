import type { IncomingMessage } from "node:http";
import type { Config } from "../config.js";
import { safeEqual } from "./auth.js";

/**
 * Who made an authorised request, for the audit trail and a pause's owner: `internal-secret` for
 * a caller with the internal secret, the Basic user (ADMIN_BASIC_USERNAME: the credentials
 * matched), or `anonymous` where credentials are unset and the endpoint is open. Call it only
 * after requireAdmin or requireTrigger accepted the request.
 */
export function actorOf(
  req: IncomingMessage,
  config: Pick<Config, "internalSecret" | "adminUsername">,
): string {
  const secret = req.headers["x-internal-secret"];
  if (config.internalSecret && typeof secret === "string" && safeEqual(secret, config.internalSecret))
    return "internal-secret";
  return config.adminUsername || "anonymous";
}
