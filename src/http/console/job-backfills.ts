import type { BackfillListed } from "../../store/backfills.js";
import { MAX_CONCURRENCY, MAX_RATE } from "../../util/backfill-input.js";
import { esc, url, utc } from "./html.js";

/** Requests the job page lists: the open ones (at most 10 a job) and the latest finished. */
export const BACKFILLS_SHOWN = 10;

/**
 * The backfill form: a window in UTC (datetime-local fields, labelled so; actions.ts adds the Z),
 * the optional limits, and "dry run", ticked by default so a first click only lists the slots.
 */
export function backfillForm(name: string, tokenField: string): string {
  return `<form method="post" action="/ui/jobs/${url(name)}/backfill" aria-labelledby="backfill-job">${tokenField}
<h3 id="backfill-job">Backfill</h3>
<p class="muted">Runs the window's slots that never succeeded, each as its slot (trigger backfill), on the replicas that have the job.</p>
<label for="bf-from">From (UTC, required)</label>
<input type="datetime-local" id="bf-from" name="from" required step="1">
<label for="bf-to">To (UTC, required)</label>
<input type="datetime-local" id="bf-to" name="to" required step="1">
<label for="bf-concurrency">Concurrency (runs at once, 1 to ${MAX_CONCURRENCY}; optional, default 1)</label>
<input type="number" id="bf-concurrency" name="concurrency" min="1" max="${MAX_CONCURRENCY}">
<label for="bf-rate">Rate (slot starts per second at most, e.g. 5/s, up to ${MAX_RATE}; optional)</label>
<input type="text" id="bf-rate" name="rate" maxlength="20">
<label class="check"><input type="checkbox" name="dry_run" value="yes" checked> Dry run: list the slots, run nothing</label>
<p><button type="submit">Backfill</button></p></form>`;
}

function state(request: BackfillListed): string {
  const s = request.summary;
  if (request.finished_at)
    return `finished ${utc(request.finished_at)}${
      s
        ? `: ${s.slots ?? 0} slots, ${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed, ${s.already_succeeded ?? 0} had succeeded before`
        : ""
    }`;
  const p = request.progress ?? { succeeded: 0, failed: 0, running: 0 };
  return `open: so far ${p.succeeded} succeeded, ${p.failed} failed, ${p.running} running`;
}

const row = (request: BackfillListed) => `<tr>
<td data-label="Request">${esc(request.id)}</td>
<td data-label="Window">${utc(request.window_from)} – ${utc(request.window_to)}</td>
<td data-label="Limits">concurrency ${request.concurrency}${request.rate === null ? "" : `, ${request.rate}/s`}</td>
<td data-label="Asked">${esc(request.requested_by)}, ${utc(request.requested_at)}</td>
<td data-label="State">${esc(state(request))}</td></tr>`;

/** The job's open and latest backfill requests, newest first, with each one's progress or summary. */
export function backfillsSection(requests: readonly BackfillListed[]): string {
  return `<section aria-labelledby="backfills"><h2 id="backfills">Backfills</h2>
${
  requests.length === 0
    ? '<p class="muted">No backfills.</p>'
    : `<table class="cards"><thead><tr><th>Request</th><th>Window</th><th>Limits</th><th>Asked</th><th>State</th></tr></thead>
<tbody>${requests.map(row).join("\n")}</tbody></table>`
}</section>`;
}
