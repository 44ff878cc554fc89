import { type JobState, type JobStatus, progressText } from "../../observe/status.js";
import { duration, esc, utc } from "./html.js";

/** The states the overview filters by; a job may be in several. */
export const FILTERS = ["failing", "paused", "overdue", "running"] as const;
export type Filter = (typeof FILTERS)[number];

/** Whether a job is in a filter's state: read from its state, before it is written out. */
export const isIn = ({ row, late }: JobState, filter: Filter): boolean =>
  filter === "failing"
    ? row.consecutive_failures > 0
    : filter === "paused"
      ? row.paused
      : filter === "overdue"
        ? (late?.overdueSeconds ?? 0) >= 1
        : row.running > 0;

/**
 * A job's state as tags with their details: failing (consecutive failures), paused (reason, owner,
 * expiry), overdue (for how long), running (how many, progress); "ok" when none applies. The job
 * page, which shows the pause in a box of its own, leaves it out (`pauseShownApart`).
 */
export function stateTags(job: JobStatus, pauseShownApart = false): string {
  const tags: string[] = [];
  if (job.consecutive_failures > 0)
    tags.push(
      `<span class="tag t-failing">failing</span> ${job.consecutive_failures} consecutive failure${job.consecutive_failures === 1 ? "" : "s"}`,
    );
  if (job.paused && !pauseShownApart) tags.push(`<span class="tag t-paused">paused</span> ${pauseText(job)}`);
  if ((job.overdue_seconds ?? 0) > 0)
    tags.push(
      `<span class="tag t-overdue">overdue</span> ${duration((job.overdue_seconds ?? 0) * 1000)} past ${utc(job.expected_last_run_at)}`,
    );
  if (job.running > 0) {
    const progress = progressText(job.progress);
    tags.push(
      `<span class="tag t-running">running</span> ${job.running}${progress ? ` (${esc(progress)})` : ""}`,
    );
  }
  if (job.enabled === false) tags.push('<span class="tag t-disabled">disabled</span>');
  if (tags.length === 0 && !job.paused) tags.push('<span class="tag t-ok">ok</span>');
  return tags.map((tag) => `<div>${tag}</div>`).join("");
}

/** "by ops: upstream down, until 2026-12-24 00:00:00 UTC", escaped. */
export function pauseText(job: Pick<JobStatus, "paused_by" | "paused_reason" | "paused_until">): string {
  const reason = job.paused_reason ? `: ${esc(job.paused_reason)}` : " (no reason given)";
  const until = job.paused_until ? `, until ${utc(job.paused_until)}` : ", until resumed";
  return `by ${esc(job.paused_by ?? "unknown")}${reason}${until}`;
}
