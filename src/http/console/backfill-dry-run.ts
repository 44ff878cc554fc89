import type { Job } from "../../types.js";
import type { BackfillDryRun } from "../backfill.js";
import type { SidecarParts } from "../parts.js";
import type { Reply } from "../respond.js";
import { esc, url, utc, zoned } from "./html.js";
import { page } from "./layout.js";
import { replicaLine } from "./replica.js";

/** Slots a dry run lists on its page; a window holds up to 10,000 (MAX_BACKFILL_SLOTS). */
export const DRY_RUN_SHOWN = 200;

/** The limits the operator gave, carried to the "Run this backfill" form as they were typed. */
export interface GivenLimits {
  concurrency: string;
  rate: string;
}

/**
 * The answer to the backfill form's dry run: the slots it would run, oldest first (the first 200),
 * and a form that queues the same window for real. Nothing was stored, so nothing is audited.
 */
export function dryRunPage(
  needs: Pick<SidecarParts, "config" | "liveness">,
  job: Pick<Job, "name" | "timezone">,
  answer: BackfillDryRun,
  given: GivenLimits,
  token: string,
): Reply {
  const { name, timezone } = job;
  const shown = answer.slots.slice(0, DRY_RUN_SHOWN);
  const local = timezone !== "UTC";
  const rows = shown.map(
    (slot, i) =>
      `<tr><td>${i + 1}</td>${local ? `<td>${esc(zoned(slot, timezone))}</td>` : ""}<td>${utc(slot)}</td></tr>`,
  );
  const more = answer.slots.length - shown.length;
  const hidden = (field: string, value: string) =>
    `<input type="hidden" name="${field}" value="${esc(value)}">`;
  const runIt =
    answer.slots.length === 0
      ? ""
      : `<form method="post" action="/ui/jobs/${url(name)}/backfill">${hidden("token", token)}${hidden("from", answer.from)}${hidden("to", answer.to)}${hidden("concurrency", given.concurrency)}${hidden("rate", given.rate)}
<p><button type="submit">Run this backfill</button></p></form>`;
  const body = `<h1>Backfill of <a href="/jobs/${url(name)}">${esc(name)}</a>: dry run</h1>
<p role="status">${utc(answer.from)} – ${utc(answer.to)}: ${
    answer.slots.length === 0
      ? "no slot would run"
      : `${answer.slots.length} slot${answer.slots.length === 1 ? "" : "s"} would run`
  }; ${answer.already_succeeded} already succeeded and would not run again. Nothing was queued.</p>
<p>Limits: concurrency ${esc(given.concurrency.trim() || "1")}, rate ${esc(given.rate.trim() || "no limit")}.</p>
${
  rows.length === 0
    ? ""
    : `<table><thead><tr><th>#</th>${local ? `<th>${esc(timezone)}</th>` : ""}<th>UTC</th></tr></thead>
<tbody>${rows.join("")}</tbody></table>${more > 0 ? `<p class="muted">and ${more} more, up to ${utc(answer.slots.at(-1))}.</p>` : ""}`
}
${runIt}`;
  return { ...page({ title: `backfill ${name}`, replica: replicaLine(needs), body }), changedNothing: true };
}
