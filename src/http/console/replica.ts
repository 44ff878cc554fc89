import type { SidecarParts } from "../parts.js";
import { utc } from "./html.js";

/** "replica web-1 · running · heartbeat 2026-12-01 11:31:30 UTC": which replica served the page. */
export function replicaLine({ config, liveness }: Pick<SidecarParts, "config" | "liveness">): string {
  return `replica ${config.runnerId} · ${liveness.state} · heartbeat ${utc(liveness.lastHeartbeatAt)}`;
}
