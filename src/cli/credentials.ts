import type { Config } from "../config.js";

/**
 * Credentials that only work as a pair, with one of them set: the admin API and the console
 * answer 503 in every environment then (README, HTTP sidecar). `runner check` reports each one.
 */
export function halfSetCredentials(config: Pick<Config, "adminUsername" | "adminPassword">): string[] {
  const user = Boolean(config.adminUsername);
  const password = Boolean(config.adminPassword);
  if (user === password) return [];
  const [set, unset] = user
    ? ["ADMIN_BASIC_USERNAME", "ADMIN_BASIC_PASSWORD"]
    : ["ADMIN_BASIC_PASSWORD", "ADMIN_BASIC_USERNAME"];
  return [
    `${set} is set but ${unset} is not: /v1/admin/*, /api/v1/* and the console answer 503 until both are set`,
  ];
}
