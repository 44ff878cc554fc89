import { MAX_REASON_CHARS } from "../../util/pause-input.js";
import { esc, url } from "./html.js";
import { backfillForm } from "./job-backfills.js";

/**
 * The job page's forms. Each POSTs to /ui/jobs/:name/... with the page's token, which the
 * handlers (actions.ts) check after refusing cross-site requests, as the overview's "Run now" does.
 * Backfill needs the job's schedule: only a replica that defines the job offers it.
 */
export function jobForms(name: string, paused: boolean, token: string, defined: boolean): string {
  const action = (what: string) => `/ui/jobs/${url(name)}/${what}`;
  const tokenField = `<input type="hidden" name="token" value="${esc(token)}">`;
  const runNow = `<form method="post" action="${action("trigger")}" aria-labelledby="run-now">${tokenField}
<h3 id="run-now">Run now</h3>
<label for="params">Params (a JSON object of strings, optional)</label>
<textarea id="params" name="params" rows="3" placeholder='{"region": "eu"}' spellcheck="false"></textarea>
<p><button type="submit">Run now</button></p></form>`;
  const pause = `<form method="post" action="${action("pause")}" aria-labelledby="pause-job">${tokenField}
<h3 id="pause-job">${paused ? "Change the pause" : "Pause"}</h3>
<label for="reason">Reason (required)</label>
<input type="text" id="reason" name="reason" required maxlength="${MAX_REASON_CHARS}">
<label for="until">Until (UTC, optional)</label>
<input type="datetime-local" id="until" name="until">
<label for="for">or for (e.g. 30m, 2h, 1d; optional)</label>
<input type="text" id="for" name="for" maxlength="20">
<p><button type="submit">Pause</button></p></form>`;
  const resume = paused
    ? `<form method="post" action="${action("resume")}" aria-labelledby="resume-job">${tokenField}
<h3 id="resume-job">Resume</h3><p>Claims start again at the next slot on every replica.</p>
<p><button type="submit">Resume</button></p></form>`
    : "";
  const backfill = defined ? backfillForm(name, tokenField) : "";
  return `<section aria-labelledby="actions"><h2 id="actions">Actions</h2>
<div class="forms">${runNow}${pause}${resume}${backfill}</div></section>`;
}
