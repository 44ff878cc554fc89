import { ConsoleStore, type HistoryRun } from "../../store/console.js";
import type { RunStatus } from "../../types.js";
import { HttpError } from "../respond.js";
import { duration, esc, firstLine, url, utc } from "./html.js";
import { statusLabel } from "./strip.js";
import type { Sql } from "postgres";

export const HISTORY_PAGE = 50;
const STATUSES: RunStatus[] = [
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "interrupted",
  "abandoned",
];

export interface HistoryView {
  status: RunStatus | undefined;
  before: string | undefined;
}

/** ?status=failed&before=<run id>: a status filter and the keyset cursor; anything else is a 400. */
export function historyQuery(query: URLSearchParams): HistoryView {
  for (const key of query.keys())
    if (!["status", "before"].includes(key))
      throw new HttpError(400, `${key}: unknown parameter (expected status, before)`);
  const status = query.get("status") || undefined;
  if (status !== undefined && !STATUSES.includes(status as RunStatus))
    throw new HttpError(400, `status: expected one of ${STATUSES.join(", ")}`);
  const before = query.get("before") || undefined;
  if (before !== undefined && !/^[1-9]\d{0,17}$/.test(before))
    throw new HttpError(400, "before: expected a run id");
  return { status: status as RunStatus | undefined, before };
}

const row = (run: HistoryRun) => `<tr>
<td data-label="Run"><a href="/runs/${esc(run.id)}">${esc(run.id)}</a></td>
<td data-label="Status" class="s-${esc(run.status)}">${esc(statusLabel(run.status))}</td>
<td data-label="Trigger">${esc(run.trigger)}</td><td data-label="Attempt">${run.attempt}</td>
<td data-label="Replica">${esc(run.runner_id)}</td><td data-label="Started">${utc(run.started_at)}</td>
<td data-label="Duration">${duration(run.duration_ms)}</td>
${run.error ? `<td data-label="Error">${esc(firstLine(run.error))}</td>` : "<td></td>"}</tr>`;

/** A page of the job's history, newest first, with its status filter and the "older" link. */
export async function historySection(sql: Sql, name: string, view: HistoryView): Promise<string> {
  const runs = await new ConsoleStore(sql).history(name, { ...view, limit: HISTORY_PAGE + 1 });
  const shown = runs.slice(0, HISTORY_PAGE);
  const base = `/jobs/${url(name)}`;
  const withStatus = (status: string | undefined, before?: string) => {
    const query = new URLSearchParams();
    if (status) query.set("status", status);
    if (before) query.set("before", before);
    const text = query.toString();
    return `${base}${text ? `?${esc(text)}` : ""}#history`;
  };
  const filters = [undefined, ...STATUSES]
    .map((status) => {
      const current = status === view.status ? ' aria-current="page"' : "";
      return `<a href="${withStatus(status)}"${current}>${status ? esc(statusLabel(status).split(" (")[0]) : "all"}</a>`;
    })
    .join("");
  const older =
    runs.length > HISTORY_PAGE
      ? `<a href="${withStatus(view.status, shown.at(-1)!.id)}">Older runs</a>`
      : '<span class="muted">no older runs</span>';
  const newest = view.before ? `<a href="${withStatus(view.status)}">Newest runs</a> · ` : "";
  return `<section aria-labelledby="history"><h2 id="history">History</h2>
<nav class="filters" aria-label="history filter">${filters}</nav>
${
  shown.length === 0
    ? '<p class="muted">No runs.</p>'
    : `<table class="cards"><thead><tr><th>Run</th><th>Status</th><th>Trigger</th><th>Attempt</th><th>Replica</th><th>Started</th><th>Duration</th><th>Error</th></tr></thead>
<tbody>${shown.map(row).join("\n")}</tbody></table>`
}<p>${newest}${older}</p></section>`;
}
