import { parseDuration } from "./duration.js";
import { parseIsoWithZone } from "./iso.js";

/** What `runner explain --from/--to` and GET /v1/admin/jobs/:name/slots?from=&to= accept. */
export interface WindowInput {
  from?: string | null;
  to?: string | null;
}

/** The window when neither end is given: the last day. */
export const DEFAULT_WINDOW_MS = 86_400_000;

/**
 * A window (from, to] from user input, or the problems, each naming its field (`from`, `to`).
 * Each end is an ISO time with a zone (2026-12-01T02:00Z) or a duration before now (2h, 7d);
 * `to` defaults to now, `from` to a day before `to`; `from` must come before `to`.
 */
export function parseWindow(
  input: WindowInput,
  now = new Date(),
): { from: Date; to: Date } | { problems: string[] } {
  const problems: string[] = [];
  const end = (field: "from" | "to", text: string | null | undefined): Date | undefined => {
    if (text === undefined || text === null) return undefined;
    const ago = /^\d/.test(text) && !text.includes("-") ? parseDuration(text) : undefined;
    const before = ago === undefined ? undefined : new Date(now.getTime() - ago);
    if (before && !Number.isNaN(before.getTime())) return before;
    const at = parseIsoWithZone(text);
    if (at) return at;
    problems.push(
      `${field}: expected an ISO time with a zone (2026-12-01T02:00Z) or a duration before now (2h) (got ${JSON.stringify(text.slice(0, 40))})`,
    );
    return undefined;
  };
  const to = end("to", input.to) ?? now;
  const from = end("from", input.from) ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
  if (problems.length === 0 && from.getTime() >= to.getTime()) problems.push("from: must be before to");
  return problems.length > 0 ? { problems } : { from, to };
}
