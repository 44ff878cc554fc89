import { parseIsoWithZone } from "./iso.js";
import { parseDuration } from "./duration.js";

/** What `runner pause` and POST /v1/admin/jobs/:name/pause accept. */
export interface PauseInput {
  reason?: unknown;
  until?: unknown;
  for?: unknown;
}

export const MAX_REASON_CHARS = 500;
/** A pause longer than a year is a forgotten one; resume it by hand instead. */
const MAX_PAUSE_MS = 366 * 86_400_000;

/**
 * The reason and the expiry of a pause, or one line per problem naming the field (`--until` and
 * `--for` are the CLI's names, `until` and `for` the API's). The reason is one line of at most 500
 * characters, no control characters (it is shown in tables, logs and alerts); the expiry is an ISO
 * time with a zone in the future, or a duration from now ("2h"), never both.
 */
export function parsePause(
  input: PauseInput,
  now = new Date(),
): { reason: string | null; until: Date | null } | { problems: string[] } {
  const problems: string[] = [];
  let reason: string | null = null;
  if (input.reason !== undefined && input.reason !== null) {
    if (typeof input.reason !== "string" || input.reason.trim() === "")
      problems.push("reason: expected a non-empty text");
    else if (input.reason.length > MAX_REASON_CHARS)
      problems.push(`reason: at most ${MAX_REASON_CHARS} characters`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    else if (/[\u0000-\u001f\u007f]/.test(input.reason))
      problems.push("reason: one line, no control characters");
    else reason = input.reason.trim();
  }
  let until: Date | null = null;
  const hasUntil = input.until !== undefined && input.until !== null;
  const hasFor = input.for !== undefined && input.for !== null;
  if (hasUntil && hasFor) problems.push("until and for: give one of them, not both");
  else if (hasUntil) {
    const text = input.until;
    const at = parseIsoWithZone(text);
    if (!at)
      problems.push(
        `until: expected an ISO time with a zone, e.g. 2026-12-24T00:00Z (got ${JSON.stringify(text)})`,
      );
    else if (at.getTime() <= now.getTime()) problems.push("until: must be in the future");
    else if (at.getTime() - now.getTime() > MAX_PAUSE_MS) problems.push("until: at most a year ahead");
    else until = at;
  } else if (hasFor) {
    const ms = typeof input.for === "string" ? parseDuration(input.for) : undefined;
    if (ms === undefined || ms <= 0)
      problems.push(`for: expected a duration such as 30m, 2h or 1d (got ${JSON.stringify(input.for)})`);
    else if (ms > MAX_PAUSE_MS) problems.push("for: at most a year");
    else until = new Date(now.getTime() + ms);
  }
  return problems.length > 0 ? { problems } : { reason, until };
}
