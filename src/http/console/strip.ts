import type { StripRun } from "../../store/console.js";
import type { RunStatus } from "../../types.js";
import { duration, esc, firstLine, utc } from "./html.js";

/**
 * The run strip: one fixed-size cell per run, oldest on the left, coloured by status AND marked
 * with a symbol, so a failure stands out whatever its duration and without colour vision. Each
 * cell links to its run page and names the run in its title (tooltip and accessible name).
 */
const MARKS: Record<RunStatus, { mark: string; label: string }> = {
  succeeded: { mark: "✓", label: "succeeded" },
  failed: { mark: "✕", label: "failed" },
  timed_out: { mark: "T", label: "timed out" },
  abandoned: { mark: "A", label: "abandoned (its replica vanished)" },
  interrupted: { mark: "I", label: "interrupted (shutdown or cancel)" },
  skipped: { mark: "–", label: "skipped" },
  running: { mark: "▸", label: "running" },
};

export const statusLabel = (status: RunStatus): string => MARKS[status]?.label ?? status;

function cell(run: StripRun): string {
  const { mark, label } = MARKS[run.status] ?? { mark: "?", label: run.status };
  const error = run.error ? ` · ${firstLine(run.error, 120)}` : "";
  const text = `run ${run.id}: ${label}, ${utc(run.started_at)}, ${duration(run.duration_ms)}${error}`;
  // The title is the link's accessible name too (its symbol is hidden from screen readers).
  return `<a class="cell c-${esc(run.status)}" href="/runs/${esc(run.id)}" title="${esc(text)}"><span aria-hidden="true">${mark}</span></a>`;
}

export function strip(runs: readonly StripRun[]): string {
  if (runs.length === 0) return '<span class="muted">no runs yet</span>';
  return `<div class="strip">${runs.map(cell).join("")}</div>`;
}

/** What each cell means, shown once above the strips. */
export function legend(): string {
  const items = (Object.keys(MARKS) as RunStatus[]).map(
    (status) =>
      `<li><span class="cell c-${status}" aria-hidden="true">${MARKS[status].mark}</span>${esc(MARKS[status].label)}</li>`,
  );
  return `<ul class="legend" aria-label="run strip legend">${items.join("")}</ul>`;
}
