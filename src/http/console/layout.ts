import type { Reply } from "../respond.js";
import { esc } from "./html.js";

/**
 * The console's shell: one stylesheet inline (no external asset), no script, and the CSP that
 * says so. Colours are chosen for WCAG AA contrast (4.5:1) on their backgrounds; below 720 px the
 * tables become one card per row, so nothing scrolls sideways at 400 px.
 */
export const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

const STYLE = `
*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f1f1f;background:#fff}
header{background:#263238;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline}
header a{color:#fff;font-weight:700;text-decoration:none;font-size:16px}header .who{color:#eceff1;font-size:12px}
main{padding:1rem;max-width:1400px}h1{font-size:20px;margin:.2rem 0 .8rem;overflow-wrap:anywhere}
h2{font-size:16px;margin:1.4rem 0 .5rem}a{color:#0d47a1}
.muted{color:#5f6368;font-size:12px}p code{overflow-wrap:anywhere}code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e0e0e0;vertical-align:top}
th{font-weight:600;background:#f5f5f5}td{overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.counts li{border:1px solid #cfd8dc;border-radius:4px;padding:.3rem .7rem}.counts strong{font-size:18px;margin-right:.3rem}
form.inline{display:inline}.filters{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin-bottom:1rem}
.filters a{padding:.2rem .6rem;border:1px solid #90a4ae;border-radius:12px;text-decoration:none}
.filters a[aria-current=page]{background:#0d47a1;color:#fff;border-color:#0d47a1}
input,textarea,select,button{font:inherit}input[type=search]{min-width:0;width:14rem;max-width:100%}
textarea{width:100%;max-width:32rem}button{cursor:pointer;padding:.25rem .7rem;white-space:nowrap}
.tag{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:12px;font-weight:600;color:#fff}
.t-failing{background:#b71c1c}.t-paused{background:#5d4037}.t-overdue{background:#a84300}.t-running{background:#0d47a1}
.t-ok{background:#1b5e20}.t-disabled{background:#546e7a}
.s-succeeded{color:#1b5e20}.s-failed,.s-abandoned{color:#b71c1c}.s-timed_out{color:#a84300}.s-running{color:#0d47a1}.s-paused{color:#5d4037}
.strip{display:flex;flex-wrap:wrap;gap:3px;max-width:100%}
.cell{display:inline-block;width:16px;height:18px;line-height:18px;text-align:center;font-size:11px;font-weight:700;color:#fff;text-decoration:none;border-radius:2px}
.c-succeeded{background:#1b5e20}.c-failed{background:#b71c1c;box-shadow:inset 0 0 0 2px #4a0000}.c-timed_out{background:#a84300}
.c-abandoned{background:#6a1b9a}.c-interrupted{background:#455a64}.c-skipped{background:#e0e0e0;color:#263238}.c-running{background:#0d47a1}
.legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin:.5rem 0;padding:0;list-style:none;font-size:12px}
.legend li{display:flex;align-items:center;gap:.3rem}.notice{background:#e3f2fd;padding:.5rem .8rem}
.paused{background:#efebe9;padding:.5rem .8rem;border-left:4px solid #5d4037}
dl.def{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dl.def dt{font-weight:600}dl.def dd{margin:0;overflow-wrap:anywhere}
.forms{display:flex;flex-wrap:wrap;gap:1rem}.forms form{border:1px solid #cfd8dc;padding:.7rem;border-radius:4px;flex:1 1 18rem}
.forms label{display:block;margin:.3rem 0 .1rem}.forms input[type=text],.forms input[type=datetime-local],.forms input[type=number]{width:100%}
.forms label.check{display:flex;gap:.4rem;align-items:center;margin:.6rem 0 0}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.out .stderr{color:#b71c1c}.out td:nth-child(2){white-space:nowrap}.out td{font:12px/1.35 ui-monospace,monospace}
@media (max-width:720px){table.cards thead{display:none}table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards tr{border:1px solid #cfd8dc;border-radius:4px;margin-bottom:.6rem;padding:.3rem}table.cards td{border:0;padding:.2rem .3rem}
table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600}dl.def{grid-template-columns:1fr}}
`;

export interface Shell {
  title: string;
  /** Who serves the page: the replica's id, its state and its last heartbeat (already text). */
  replica: string;
  body: string;
  /**
   * Load `url` again after so many seconds (a running run's output, without a script). The address
   * carries no fragment: a refresh to the same address with one only scrolls, it does not reload.
   */
  refresh?: { seconds: number; url: string };
}

export function page(shell: Shell): Reply {
  const refresh = shell.refresh
    ? `<meta http-equiv="refresh" content="${shell.refresh.seconds}; url=${esc(shell.refresh.url)}">`
    : "";
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(shell.title)} · runner</title><style>${STYLE}</style></head><body>
<header><a href="/">runner</a><span class="who">${esc(shell.replica)}</span></header>
<main>
${shell.body}
</main></body></html>`;
  return {
    status: 200,
    raw: true,
    body: html,
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": CSP },
  };
}
