import { type SlotRangeJson, type SlotReport, slotReport } from "../../observe/slot-report.js";
import { newestInstantsStart } from "../../schedule/cron.js";
import type { Job } from "../../types.js";
import { DEFAULT_WINDOW_MS } from "../../util/window.js";
import type { SidecarParts } from "../parts.js";
import { esc, time, url, utc, zoned } from "./html.js";

/**
 * At most this many planned instants are read: each costs about 20 µs in a zone with DST, so a
 * per-second job's 86,400 a day would cost the page 2 s, and 1,000 took 27 ms at p50 (37 at p95)
 * on the shared 2-core machine (bench/RESULTS.md). A denser schedule shows its newest ones.
 */
export const SLOTS_READ = 500;
/** Ranges shown, newest first: a schedule whose slots alternate fates folds to many. */
export const RANGES_SHOWN = 50;

/** A job's slot report for the page, and whether SLOTS_READ cut the 24 h short. */
export interface PageSlots {
  report: SlotReport;
  dense: boolean;
}

/** The slot report of the last 24 h, or of the newest SLOTS_READ instants when they are fewer hours. */
export async function slotsSection(
  store: SidecarParts["store"],
  job: Job,
  now = new Date(),
): Promise<PageSlots> {
  const dayAgo = new Date(now.getTime() - DEFAULT_WINDOW_MS);
  const newest = newestInstantsStart(job.schedule, job.timezone, dayAgo, now, SLOTS_READ);
  // (from, to]: one millisecond before the oldest instant kept, so that instant counts.
  const from = newest ? new Date(newest.getTime() - 1) : dayAgo;
  const report = await slotReport(store(), job, { from, to: now }, now);
  return { report, dense: newest !== null };
}

const FATE_CLASS: Record<string, string> = { missed: "s-failed", dropped: "s-failed", paused: "s-paused" };

function row(report: SlotReport, range: SlotRangeJson): string {
  const when = (at: string) => time(at, zoned(at, report.timezone));
  const run = range.run_id ? `<a href="/runs/${url(range.run_id)}">run ${esc(range.run_id)}</a>` : "–";
  return `<tr><td data-label="First">${when(range.first)}</td>
<td data-label="Last">${range.count === 1 ? "–" : when(range.last)}</td><td data-label="Slots">${range.count}</td>
<td data-label="Fate" class="${FATE_CLASS[range.fate] ?? ""}"><strong>${esc(range.fate)}</strong></td>
<td data-label="Reason">${esc(range.reason)}</td><td data-label="Run">${run}</td></tr>`;
}

/** The report's window is (from, to]: its first instant that counts is a millisecond later. */
const after = (from: string) => new Date(Date.parse(from) + 1);

/** The "why did it run" section: the verdict, then the folded ranges, newest first, capped. */
export function slotsHtml({ report, dense }: PageSlots, name: string): string {
  const shown = report.ranges.slice(-RANGES_SHOWN).reverse();
  // The report itself starts no earlier than the job was first seen (slot-report.ts).
  const window = dense
    ? `The newest ${SLOTS_READ.toLocaleString("en")} planned slots (a dense schedule; not the whole 24 h)`
    : "The last 24 h";
  const hidden = report.ranges.length - shown.length;
  const whole = `<code>runner explain ${esc(name)} --from … --to …</code> or <code>GET /v1/admin/jobs/${url(name)}/slots</code>`;
  return `<section aria-labelledby="slots"><h2 id="slots">Slots: why it ran, or did not</h2>
<p><strong>${esc(report.verdict)}</strong></p>
<p class="muted">${window}, ${utc(after(report.from))} – ${utc(report.to)}: ${report.slots} planned slots in ${report.ranges.length} ranges${hidden > 0 ? `; the newest ${shown.length} shown, ${hidden} older not` : ""}. Any window: ${whole}.</p>
${
  shown.length === 0
    ? ""
    : `<table class="cards"><thead><tr><th>First</th><th>Last</th><th>Slots</th><th>Fate</th><th>Reason</th><th>Run</th></tr></thead>
<tbody>${shown.map((range) => row(report, range)).join("\n")}</tbody></table>`
}</section>`;
}
