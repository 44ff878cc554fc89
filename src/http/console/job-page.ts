import { jobStatus } from "../../observe/status.js";
import { upcoming } from "../../schedule/explain.js";
import { AuditStore, type AuditRow } from "../../store/audit.js";
import type { Job } from "../../types.js";
import type { SidecarParts } from "../parts.js";
import { HttpError, type Reply } from "../respond.js";
import { duration, esc, utc } from "./html.js";
import { BACKFILLS_SHOWN, backfillsSection } from "./job-backfills.js";
import { jobForms } from "./job-forms.js";
import { historyQuery, historySection } from "./job-history.js";
import { pauseText, stateTags } from "./job-state.js";
import { page } from "./layout.js";
import { replicaLine } from "./replica.js";
import { scheduleInWords } from "./schedule-words.js";
import { slotsHtml, slotsSection } from "./job-slots.js";

type JobPageNeeds = Pick<SidecarParts, "store" | "registry" | "nextRunAt" | "liveness" | "config">;

const AUDIT_EVENTS = 20;

function definition(job: Job): string {
  const words = scheduleInWords(job.schedule);
  const retries = job.retries.attempts - 1;
  const item = (term: string, value: string) => `<dt>${term}</dt><dd>${value}</dd>`;
  return `<dl class="def">
${item("Kind", esc(job.kind ?? "code"))}${item("Source", esc(job.source))}
${item("Schedule", `${words ? `${esc(words)} · ` : ""}<code>${esc(job.schedule)}</code>`)}
${item("Time zone", esc(job.timezone))}${item("Enabled", job.enabled ? "yes" : "no (never fired by the schedule)")}
${item("Timeout", duration(job.timeoutMs))}
${item("Retries", retries === 0 ? "none" : `${retries} (${esc(job.retries.backoff)} backoff from ${duration(job.retries.initialMs)}, at most ${duration(job.retries.maxMs)})`)}
${item("Overlap", esc(job.overlap))}${item("Catch-up", `${esc(job.catchUp)} (within ${job.misfireGraceSeconds} s)`)}
${job.pauseAfterFailures ? item("Pauses itself after", `${job.pauseAfterFailures} consecutive failures`) : ""}
</dl>`;
}

/** The next 10 instants in the job's zone and in UTC, with the DST notes of `runner explain`. */
function nextInstants(job: Job): string {
  if (!job.enabled) return "";
  const instants = upcoming(job.schedule, job.timezone, job.dst, new Date(), 10);
  const local = job.timezone !== "UTC";
  const notes = instants.some((at) => at.note);
  const head = `${local ? `<th>${esc(job.timezone)}</th>` : ""}<th>UTC</th>${notes ? "<th>Note</th>" : ""}`;
  const rows = instants.map(
    (at) =>
      `<tr>${local ? `<td>${esc(at.local)}</td>` : ""}<td>${utc(at.at)}</td>${notes ? `<td>${esc(at.note ?? "")}</td>` : ""}</tr>`,
  );
  return `<section aria-labelledby="next"><h2 id="next">Next ${rows.length} runs</h2>
<table><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table></section>`;
}

function auditSection(events: AuditRow[]): string {
  const rows = events.map(
    (event) =>
      `<tr><td data-label="When">${utc(event.at)}</td><td data-label="Who">${esc(event.actor)}</td><td data-label="What">${esc(event.action)}</td><td data-label="Details"><code>${esc(JSON.stringify(event.details))}</code></td></tr>`,
  );
  return `<section aria-labelledby="audit"><h2 id="audit">Audit trail</h2>
${rows.length === 0 ? '<p class="muted">No events.</p>' : `<table class="cards"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Details</th></tr></thead><tbody>${rows.join("")}</tbody></table>`}</section>`;
}

/**
 * GET /jobs/:name: the job's state, its definition (when this replica has it) with its next
 * instants, the actions (run now with params, pause, resume, backfill), its backfill requests, its
 * slots of the last 24 h with their fates (why it ran, or did not), its history paged by keyset
 * and filtered by status, and its audit trail.
 */
export async function jobPage(
  needs: JobPageNeeds,
  name: string,
  query: URLSearchParams,
  token: string,
): Promise<Reply> {
  const view = historyQuery(query);
  const sql = needs.store().sql;
  const job = needs.registry.get(name);
  const [[state], events, history, backfills, slots] = await Promise.all([
    jobStatus(needs.store(), needs.registry, needs.nextRunAt, name),
    new AuditStore(sql).list(name, AUDIT_EVENTS),
    historySection(sql, name, view),
    needs.store().backfills.recent(name, BACKFILLS_SHOWN),
    job ? slotsSection(needs.store, job) : undefined,
  ]);
  if (!state && !job) throw new HttpError(404, `unknown job "${name}"`);
  const paused = state?.paused ?? false;
  const body = `<h1>${esc(name)}</h1>
${job?.description ? `<p>${esc(job.description)}</p>` : ""}
${paused && state ? `<p class="paused" role="status"><strong>Paused</strong> ${pauseText(state)}</p>` : ""}
${state ? `<div>${stateTags(state, true)}</div>` : ""}
<p>Next run: ${state?.next_run_at ? utc(state.next_run_at) : "–"} · last success: ${utc(state?.last_success_at)}</p>
${state?.last_error ? `<p>Last error (${utc(state.last_error_at)}):</p><pre>${esc(state.last_error)}</pre>` : ""}
<section aria-labelledby="definition"><h2 id="definition">Definition</h2>
${job ? definition(job) : '<p class="muted">This replica does not define this job: its runs are listed below.</p>'}</section>
${job ? nextInstants(job) : ""}
${jobForms(name, paused, token, job !== undefined)}
${backfillsSection(backfills)}
${slots ? slotsHtml(slots, name) : ""}
${history}
${auditSection(events)}`;
  return page({ title: name, replica: replicaLine(needs), body });
}
