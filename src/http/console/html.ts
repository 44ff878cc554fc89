import { localTime } from "../../schedule/explain.js";

/**
 * Text into HTML. Job names, errors, output lines, params and pause reasons are written by
 * whoever defines, triggers or runs a job: every value goes through `esc` (or `attr`) on its way
 * into a page, and the pages build no markup from input any other way.
 */
export const esc = (text: unknown): string =>
  String(text ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** A path segment or query value, escaped for an attribute as well. */
export const url = (text: string): string => esc(encodeURIComponent(text));

/** A time in UTC, labelled: `2026-12-01 11:31:30 UTC`; a dash when there is none. */
export function utc(at: Date | string | null | undefined): string {
  if (!at) return "–";
  return `${new Date(at).toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** A time in `timezone` with its zone and offset: `2026-12-01 12:31:30 +01:00 Europe/Paris`. */
export function zoned(at: Date | string | null | undefined, timezone: string): string {
  if (!at) return "–";
  if (timezone === "UTC") return utc(at);
  return `${localTime(timezone, new Date(at).getTime())} ${timezone}`;
}

/** A `<time>` element: machine-readable ISO, the text as given. */
export const time = (at: Date | string | null | undefined, text: string): string =>
  at ? `<time datetime="${esc(new Date(at).toISOString())}">${esc(text)}</time>` : esc(text);

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** The first line of an error, cut to `max` characters. */
export function firstLine(text: string | null | undefined, max = 160): string {
  const line = (text ?? "").split("\n", 1)[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
