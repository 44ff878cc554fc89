import { type JobState, type JobStatus, jobStates, statusOf } from "../../observe/status.js";
import { ConsoleStore, type StripRun } from "../../store/console.js";
import { RUNNER_ROW } from "../../types.js";
import type { SidecarParts } from "../parts.js";
import { HttpError, type Reply } from "../respond.js";
import { esc, url, utc, zoned } from "./html.js";
import { FILTERS, type Filter, isIn, stateTags } from "./job-state.js";
import { page } from "./layout.js";
import { replicaLine } from "./replica.js";
import { scheduleInWords } from "./schedule-words.js";
import { legend, statusLabel, strip } from "./strip.js";

/**
 * Jobs per page: a thousand rows of strips is a page nobody reads and a slow one to send; 50
 * fill two screens, and the filters and the search find the rest.
 */
export const JOBS_PER_PAGE = 50;
export const STRIP_RUNS = 20;

type OverviewNeeds = Pick<SidecarParts, "store" | "registry" | "nextRunAt" | "liveness" | "config">;

interface View {
  filter: Filter | undefined;
  search: string;
  /** Jobs named after this one (the "more jobs" link). */
  after: string | undefined;
}

/** ?filter=failing|paused|overdue|running&q=text&after=name; anything else is a 400. */
export function overviewQuery(query: URLSearchParams): View {
  for (const key of query.keys())
    if (!["filter", "q", "after"].includes(key))
      throw new HttpError(400, `${key}: unknown parameter (expected filter, q, after)`);
  const filter = query.get("filter") || undefined;
  if (filter !== undefined && !FILTERS.includes(filter as Filter))
    throw new HttpError(400, `filter: expected one of ${FILTERS.join(", ")}`);
  const search = (query.get("q") ?? "").trim();
  if (search.length > 200) throw new HttpError(400, "q: at most 200 characters");
  const after = query.get("after") || undefined;
  if (after !== undefined && after.length > 200) throw new HttpError(400, "after: expected a job name");
  return { filter: filter as Filter | undefined, search, after };
}

const link = (view: Partial<View>): string => {
  const query = new URLSearchParams();
  if (view.filter) query.set("filter", view.filter);
  if (view.search) query.set("q", view.search);
  if (view.after) query.set("after", view.after);
  const text = query.toString();
  return esc(text ? `/?${text}` : "/");
};

function filterBar(view: View): string {
  const all = [undefined, ...FILTERS].map((filter) => {
    const current = filter === view.filter ? ' aria-current="page"' : "";
    return `<a href="${link({ filter, search: view.search })}"${current}>${filter ?? "all"}</a>`;
  });
  return `<nav class="filters" aria-label="filters">${all.join("")}
<form method="get" action="/" role="search">${view.filter ? `<input type="hidden" name="filter" value="${esc(view.filter)}">` : ""}
<label for="q" class="vh">Search jobs</label><input type="search" id="q" name="q" value="${esc(view.search)}" placeholder="search jobs">
<button type="submit">Search</button></form></nav>`;
}

function counts(jobs: JobState[]): string {
  const count = (filter: Filter) => jobs.filter((job) => isIn(job, filter)).length;
  const running = jobs.reduce((sum, job) => sum + job.row.running, 0);
  const item = (n: number, what: string) => `<li><strong>${n}</strong> ${what}</li>`;
  return `<ul class="counts" aria-label="counts">${item(jobs.length, "jobs")}${item(running, "running now")}${item(count("failing"), "failing")}${item(count("paused"), "paused")}${item(count("overdue"), "overdue")}</ul>`;
}

function row(job: JobStatus, runs: StripRun[], token: string): string {
  const words = job.schedule ? scheduleInWords(job.schedule) : undefined;
  const schedule = job.schedule
    ? `${words ? `${esc(words)}<br>` : ""}<code>${esc(job.schedule)}</code> <span class="muted">${esc(job.timezone)}</span>`
    : '<span class="muted">not defined on this replica</span>';
  const last = [...runs].reverse().find((run) => run.status !== "running");
  const lastRun = last
    ? `<a class="s-${esc(last.status)}" href="/runs/${esc(last.id)}">${esc(statusLabel(last.status))}</a><div class="muted">${utc(last.started_at)}</div>`
    : '<span class="muted">none</span>';
  const runNow = job.schedule
    ? `<form class="inline" method="post" action="/ui/jobs/${url(job.name)}/trigger"><input type="hidden" name="token" value="${esc(token)}"><button type="submit">Run now<span class="vh"> ${esc(job.name)}</span></button></form>`
    : "";
  return `<tr data-job="${esc(job.name)}">
<td data-label="Job"><a href="/jobs/${url(job.name)}"><strong>${esc(job.name)}</strong></a>${job.description ? `<div class="muted">${esc(job.description)}</div>` : ""}</td>
<td data-label="Schedule">${schedule}</td>
<td data-label="Next run">${job.next_run_at ? zoned(job.next_run_at, job.timezone ?? "UTC") : "–"}</td>
<td data-label="Last run">${lastRun}</td>
<td data-label="State">${stateTags(job)}</td>
<td data-label="Last ${STRIP_RUNS} runs">${strip(runs)}</td>
<td>${runNow}</td></tr>`;
}

/**
 * GET /: every job (a page of JOBS_PER_PAGE, by name) with its schedule in words and as written,
 * zone, next and last run, state, and its run strip; counts of all jobs at the top; filters and a
 * search that are links and a GET form, so they work without JavaScript.
 */
export async function overview(needs: OverviewNeeds, query: URLSearchParams, token: string): Promise<Reply> {
  const view = overviewQuery(query);
  // By name in code units, as the "after" cursor compares (the database's collation may differ).
  const all = (await jobStates(needs.store(), needs.registry, needs.nextRunAt))
    .filter((state) => state.row.name !== RUNNER_ROW)
    .sort((a, b) => (a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0));
  const needle = view.search.toLowerCase();
  const matching = all.filter(
    (state) =>
      (!view.filter || isIn(state, view.filter)) &&
      (!needle ||
        state.row.name.toLowerCase().includes(needle) ||
        (state.job?.description ?? "").toLowerCase().includes(needle)),
  );
  const from = view.after === undefined ? 0 : matching.findIndex((state) => state.row.name > view.after!);
  // Only the jobs shown are written out (times as text, the view): 50, not every job.
  const shown = (from < 0 ? [] : matching.slice(from, from + JOBS_PER_PAGE)).map(statusOf);
  const runs = await new ConsoleStore(needs.store().sql).strips(
    shown.map((job) => job.name),
    STRIP_RUNS,
  );
  const byJob = new Map<string, StripRun[]>();
  for (const run of runs) {
    const strip = byJob.get(run.job_name);
    if (strip) strip.push(run);
    else byJob.set(run.job_name, [run]);
  }
  const more =
    from >= 0 && from + JOBS_PER_PAGE < matching.length
      ? `<p><a href="${link({ ...view, after: shown.at(-1)!.name })}">More jobs (after ${esc(shown.at(-1)!.name)})</a></p>`
      : "";
  const what = view.filter || view.search ? `${matching.length} of ${all.length} jobs match` : "";
  const body = `<h1>Jobs</h1>
${counts(all)}
${filterBar(view)}
${what ? `<p class="muted" role="status">${esc(what)}</p>` : ""}
${legend()}
<table class="cards"><thead><tr><th>Job</th><th>Schedule</th><th>Next run</th><th>Last run</th><th>State</th><th>Last ${STRIP_RUNS} runs</th><th><span class="vh">Actions</span></th></tr></thead>
<tbody>
${shown.map((job) => row(job, byJob.get(job.name) ?? [], token)).join("\n")}
</tbody></table>
${shown.length === 0 ? '<p class="muted">No job matches.</p>' : ""}${more}`;
  return page({ title: "Jobs", replica: replicaLine(needs), body });
}
