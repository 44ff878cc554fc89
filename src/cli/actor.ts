import { hostname, userInfo } from "node:os";

/** Who acts from this command line, as the audit trail and a pause's owner show it: `cli:<os user>@<host>`. */
export function cliActor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): the uid names it.
    user = process.env.USER || `uid${process.getuid?.() ?? "?"}`;
  }
  return `cli:${user}@${hostname()}`;
}
