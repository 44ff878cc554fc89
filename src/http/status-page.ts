import type { IncomingMessage } from "node:http";
import { jobStatus, progressText } from "../observe/status.js";
import type { RunRow } from "../store/store.js";
import type { SidecarParts } from "./parts.js";
import { type PageTokens, refuseCrossSite } from "./csrf.js";
import { HttpError, type Reply, readBody } from "./respond.js";

const COLORS: Record<string, string> = {
  succeeded: "#2e7d32",
  failed: "#c62828",
  timed_out: "#ef6c00",
  abandoned: "#6a1b9a",
  interrupted: "#757575",
  skipped: "#bdbdbd",
  running: "#1565c0",
};

const escapeHtml = (text: unknown) =>
  String(text ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const when = (iso: string | Date | null | undefined) =>
  iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "–";

type Bar = Pick<RunRow, "id" | "job_name" | "status" | "started_at" | "duration_ms">;

/** The last runs' durations as bars, tallest = slowest, coloured by status; no script, no library. */
function bars(runs: Bar[]): string {
  if (runs.length === 0) return '<span class="muted">no runs yet</span>';
  const width = 6;
  const max = Math.max(1, ...runs.map((r) => r.duration_ms ?? 0));
  const rects = runs
    .map((run, i) => {
      const height = Math.max(2, Math.round(((run.duration_ms ?? 0) / max) * 28));
      const title = `${when(run.started_at)} ${run.status} ${run.duration_ms ?? "?"} ms`;
      return `<rect x="${i * (width + 2)}" y="${30 - height}" width="${width}" height="${height}" fill="${COLORS[run.status] ?? "#000"}"><title>${escapeHtml(title)}</title></rect>`;
    })
    .join("");
  return `<svg width="${runs.length * (width + 2)}" height="30" role="img" aria-label="last ${runs.length} runs">${rects}</svg>`;
}

/** `?run=<id>` after "Run now": said from the run's own row, never from text in the address. */
function startedNotice(recent: Bar[], runId: string | null): string | undefined {
  if (!runId || !/^\d{1,19}$/.test(runId)) return undefined;
  const run = recent.find((r) => r.id === runId);
  return run ? `Started ${run.job_name} (run ${run.id})` : undefined;
}

/**
 * GET /: every job with its schedule, next run, last status, failures, the last 20 runs as bars,
 * and a trigger button. Server-rendered, no build step, no third-party script; refreshes itself.
 * Each form carries `token` (see csrf.ts), which the trigger checks.
 */
type PageNeeds = Pick<SidecarParts, "store" | "registry" | "nextRunAt" | "liveness" | "config">;

export async function statusPage(
  { store, registry, nextRunAt, liveness, config }: PageNeeds,
  page: { token: string; runId: string | null },
): Promise<Reply> {
  const [states, recent] = await Promise.all([
    jobStatus(store(), registry, nextRunAt),
    store().recentRuns(20),
  ]);
  const notice = startedNotice(recent, page.runId);
  const byJob = new Map<string, Bar[]>();
  for (const run of recent) byJob.set(run.job_name, [...(byJob.get(run.job_name) ?? []), run]);
  const rows = registry
    .list()
    .map((job) => {
      const state = states.find((s) => s.name === job.name);
      const runs = byJob.get(job.name) ?? [];
      const last = [...runs].reverse().find((r) => r.status !== "running");
      return `<tr data-job="${escapeHtml(job.name)}">
  <td><strong>${escapeHtml(job.name)}</strong><div class="muted">${escapeHtml(job.description)}</div></td>
  <td><code>${escapeHtml(job.schedule)}</code> <span class="muted">${escapeHtml(job.timezone)}</span></td>
  <td>${when(state?.next_run_at)}</td>
  <td class="status-${escapeHtml(last?.status ?? "none")}">${escapeHtml(last?.status ?? "–")}<div class="muted">${when(last?.started_at)}</div></td>
  <td>${state?.consecutive_failures ?? 0}${state?.paused ? ' <span class="muted">paused</span>' : ""}${state?.progress ? `<div class="muted">running: ${escapeHtml(progressText(state.progress))}</div>` : ""}</td>
  <td class="runs">${bars(runs)}</td>
  <td><form method="post" action="/ui/jobs/${encodeURIComponent(job.name)}/trigger"><input type="hidden" name="token" value="${escapeHtml(page.token)}"><button type="submit">Run now</button></form></td>
</tr>`;
    })
    .join("\n");
  const beat = liveness.lastHeartbeatAt;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>runner · ${escapeHtml(config.runnerId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #eee;vertical-align:top}th{font-weight:600;background:#fafafa}
.muted{color:#777;font-size:12px}.status-succeeded{color:#2e7d32}.status-failed,.status-abandoned{color:#c62828}
.status-timed_out{color:#ef6c00}.notice{background:#e3f2fd;padding:.5rem .8rem;margin-bottom:1rem}button{cursor:pointer}
</style></head><body>
<h1>runner <span class="muted">${escapeHtml(config.runnerId)} · ${escapeHtml(liveness.state)} · heartbeat ${when(beat)}</span></h1>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ""}
<table><thead><tr><th>Job</th><th>Schedule</th><th>Next run</th><th>Last run</th><th>Failures</th><th>Last 20 runs</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>`;
  return {
    status: 200,
    raw: true,
    body: html,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    },
  };
}

/**
 * POST /ui/jobs/:name/trigger from the page's button: run the job, then back to the page.
 * Basic credentials are sent by the browser whatever page posts, so the post must come from this
 * origin and carry the page's token (cross-site: 403).
 */
export async function triggerFromPage(
  { registry, liveness, config, runNow }: Pick<SidecarParts, "registry" | "liveness" | "config" | "runNow">,
  tokens: PageTokens,
  name: string,
  req: IncomingMessage,
): Promise<Reply> {
  refuseCrossSite(req);
  tokens.check(new URLSearchParams(await readBody(req)).get("token"));
  if (!registry.has(name)) throw new HttpError(404, `unknown job "${name}"`);
  if (liveness.state !== "running") throw new HttpError(503, `runner is ${liveness.state}`);
  if (!config.jobsEnabled) throw new HttpError(503, "jobs are disabled on this runner (JOBS_ENABLED=false)");
  const run = await runNow(name, {}, "http");
  return { status: 303, raw: true, body: "", headers: { location: `/?run=${run.runId}` } };
}
