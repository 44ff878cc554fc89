import { ConsoleStore, type HistoryRun, type RunDetail } from "../../store/console.js";
import { OutputStore, type OutputRow } from "../../store/output.js";
import { scrub, scrubValue } from "../../util/secrets.js";
import type { SidecarParts } from "../parts.js";
import { HttpError, type Reply } from "../respond.js";
import { duration, esc, url, utc, zoned } from "./html.js";
import { page } from "./layout.js";
import { replicaLine } from "./replica.js";
import { statusLabel } from "./strip.js";

type RunPageNeeds = Pick<SidecarParts, "store" | "registry" | "liveness" | "config">;

/** Lines shown at most: the output store keeps 1,000 per run by default (RUN_OUTPUT_MAX_LINES). */
const OUTPUT_LINES = 5000;

const pretty = (value: unknown) => esc(JSON.stringify(value, null, 2));

function timeline(run: RunDetail, attempts: HistoryRun[], timezone: string): string {
  const steps: [string, string][] = [];
  if (run.scheduled_for) steps.push(["Slot", zoned(run.scheduled_for, timezone)]);
  steps.push(["Claimed", run.claimed_at ? utc(run.claimed_at) : "not recorded (before the console)"]);
  steps.push(["Started", utc(run.started_at)]);
  for (const attempt of attempts.filter((a) => a.id !== run.id))
    steps.push([
      `Attempt ${attempt.attempt}`,
      `<a href="/runs/${esc(attempt.id)}">run ${esc(attempt.id)}</a>: ${esc(statusLabel(attempt.status))}, started ${utc(attempt.started_at)}, ${duration(attempt.duration_ms)}`,
    ]);
  steps.push([
    "Finished",
    run.finished_at ? `${utc(run.finished_at)} (${duration(run.duration_ms)})` : "not yet",
  ]);
  return `<ol class="timeline">${steps.map(([what, when]) => `<li><strong>${what}</strong>: ${when}</li>`).join("")}</ol>`;
}

function output(lines: OutputRow[]): string {
  if (lines.length === 0) return '<p class="muted">No output.</p>';
  const rows = lines.map(
    (line) =>
      `<tr class="${esc(line.stream)}"><td>${line.seq}</td><td>${esc(utc(line.at).slice(11, 19))}</td><td>${esc(line.stream)}</td><td>${esc(line.line)}</td></tr>`,
  );
  return `<table class="out"><thead><tr><th>#</th><th>Time (UTC)</th><th>Stream</th><th>Line</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** While a run goes on: a link that turns following on (reload every 3 s) or off. */
function followLink(run: RunDetail, following: boolean): string {
  if (run.status !== "running") return "";
  return following
    ? `<p class="notice">Following: this page reloads every 3 s while the run goes on. <a href="/runs/${esc(run.id)}">Stop following</a></p>`
    : `<p><a href="/runs/${esc(run.id)}?follow=1">Follow the output</a> (reloads the page every 3 s)</p>`;
}

/**
 * GET /runs/:id[?follow=1]: the run's timeline (slot, claim, start, the other attempts of its
 * slot, finish), error with its stack, result, params, replica, and its output lines. Following
 * a running run reloads the page every 3 s, so its output follows without a script; it is asked
 * for, never imposed (a page that reloads by itself is a barrier: WCAG 2.2.1).
 */
export async function runPage(needs: RunPageNeeds, id: string, query: URLSearchParams): Promise<Reply> {
  if (!/^[1-9]\d{0,17}$/.test(id)) throw new HttpError(400, "run id: expected a number");
  for (const key of query.keys())
    if (key !== "follow") throw new HttpError(400, `${key}: unknown parameter (expected follow)`);
  const following = query.get("follow") === "1";
  const sql = needs.store().sql;
  const store = new ConsoleStore(sql);
  const [run, lines] = await Promise.all([store.run(id), new OutputStore(sql).lines(id, 0, OUTPUT_LINES)]);
  if (!run) throw new HttpError(404, `run ${id} not found`);
  // Shown as the log shows them: a secret value the runner knows (registered after the row was
  // written, or passed in a param) is hidden, as output lines are when read.
  run.error = run.error === null ? null : scrub(run.error);
  run.error_stack = run.error_stack === null ? null : scrub(run.error_stack);
  run.params = scrubValue(run.params);
  run.result = scrubValue(run.result);
  const attempts = run.scheduled_for ? await store.attempts(run.job_name, run.scheduled_for) : [];
  const timezone = needs.registry.get(run.job_name)?.timezone ?? "UTC";
  const progress =
    run.progress_done === null
      ? ""
      : `<dt>Progress</dt><dd>${run.progress_done}${run.progress_total === null ? "" : ` of ${run.progress_total}`}</dd>`;
  const body = `<h1>Run ${esc(run.id)} of <a href="/jobs/${url(run.job_name)}">${esc(run.job_name)}</a></h1>
<p class="s-${esc(run.status)}"><strong>${esc(statusLabel(run.status))}</strong></p>
${followLink(run, following)}
<dl class="def"><dt>Trigger</dt><dd>${esc(run.trigger)}</dd><dt>Attempt</dt><dd>${run.attempt}</dd>
<dt>Replica</dt><dd>${esc(run.runner_id)}</dd>
<dt>Slot</dt><dd>${run.scheduled_for ? zoned(run.scheduled_for, timezone) : "none (started by hand or over HTTP)"}</dd>${progress}</dl>
<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>${timeline(run, attempts, timezone)}</section>
${run.error ? `<section aria-labelledby="error"><h2 id="error">Error</h2><pre>${esc(run.error)}</pre>${run.error_stack ? `<details open><summary>Stack</summary><pre>${esc(run.error_stack)}</pre></details>` : ""}</section>` : ""}
<section aria-labelledby="result"><h2 id="result">Result</h2>${run.result === null ? '<p class="muted">None.</p>' : `<pre>${pretty(run.result)}</pre>`}</section>
<section aria-labelledby="params"><h2 id="params">Params</h2>${run.params ? `<pre>${pretty(run.params)}</pre>` : '<p class="muted">None.</p>'}</section>
<section aria-labelledby="output"><h2 id="output">Output</h2>${output(lines)}</section>`;
  return page({
    title: `run ${run.id}`,
    replica: replicaLine(needs),
    body,
    refresh:
      following && run.status === "running" ? { seconds: 3, url: `/runs/${run.id}?follow=1` } : undefined,
  });
}
