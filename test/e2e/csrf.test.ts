import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";
import { needTool } from "../helpers/tools.js";

/*
 * Cross-site request forgery in a real browser: an operator logs in to the status page (Chromium
 * caches the Basic credentials), then opens a page on another origin, which posts to the runner
 * every way a page can without help from the runner: fetch with text/plain, an auto-submitted
 * text/plain form carrying a job definition, the status page's own form, the job page's backfill
 * form, and the status page's form from a sandboxed page (Origin: null). The browser sends the credentials; the runner refuses all.
 */
const db = await testDatabase("csrfe2e");
const USER = "ops";
const PASSWORD = "e2e-csrf-pass-5";
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let attacker: Server;
let attackerBase = "";
let browser: Browser | undefined;

const planted = {
  name: "planted",
  schedule: "* * * * * *",
  http: { url: "http://169.254.169.254/latest/meta-data/" },
};

/** The attacker's pages, one way of posting each; each fires on load. */
function attackPages(runner: string): Record<string, string> {
  const body = JSON.stringify(planted);
  // A text/plain form sends `name=value`: the name holds the JSON up to a dummy field's value.
  const formName = `${body.slice(0, -1)},"x":"`;
  const submit = "<script>document.forms[0].submit()</script>";
  const pageForm = `<form method="post" action="${runner}/ui/jobs/report/trigger"><input name="token" value="1.x"></form>${submit}`;
  // The job page's backfill form, for real (no dry run): a day of the job's slots.
  const backfillForm = `<form method="post" action="${runner}/ui/jobs/report/backfill"><input name="token" value="1.x"><input name="from" value="2026-01-01T00:00"><input name="to" value="2026-01-02T00:00"></form>${submit}`;
  const fetchPost = (path: string, text: string) =>
    `<script>fetch(${JSON.stringify(runner + path)}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: ${JSON.stringify(text)} })</script>`;
  return {
    "/fetch-register": fetchPost("/api/v1/scheduler/jobs", body),
    "/fetch-trigger": fetchPost("/api/v1/scheduler/jobs/report/trigger", "{}"),
    "/fetch-internal-trigger": fetchPost("/v1/jobs/report/trigger", "{}"),
    "/form-register": `<form method="post" enctype="text/plain" action="${runner}/api/v1/scheduler/jobs"><input name='${formName}' value='"}'></form>${submit}`,
    "/form-page": pageForm,
    "/form-backfill": backfillForm,
    // Served sandboxed (see below): an opaque origin, so the post carries Origin: null.
    "/form-page-sandboxed": pageForm,
    // The control: a read that needs the credentials, to show the browser sends them along.
    "/fetch-status": `<script>fetch(${JSON.stringify(`${runner}/v1/admin/jobs/status`)}, { mode: "no-cors", credentials: "include" })</script>`,
  };
}

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { ADMIN_BASIC_USERNAME: USER, ADMIN_BASIC_PASSWORD: PASSWORD });
  made.runner.registerJob({ name: "report", schedule: "@yearly", run: () => {} });
  await made.runner.start();
  const pages = attackPages(made.base);
  attacker = createServer((req, res) => {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      ...(req.url?.endsWith("-sandboxed")
        ? { "content-security-policy": "sandbox allow-forms allow-scripts" }
        : {}),
    });
    res.end(`<!doctype html><html><body>${pages[req.url ?? ""] ?? ""}</body></html>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerBase = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});

/** One Chromium for the file, launched by the first test that needs it (skipped without one). */
async function launch(test: { skip(note: string): never }): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: needTool("chromium", test),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  return browser;
}
afterAll(async () => {
  await browser?.close();
  attacker?.close();
  await made.runner.stop();
});

describe("a page on another origin, in headless Chromium, with the operator's credentials cached", () => {
  it("cannot register a job, queue a backfill or start a run", async (test) => {
    const context = await (await launch(test)).newContext({
      httpCredentials: { username: USER, password: PASSWORD, origin: made.base },
    });
    try {
      const page = await context.newPage();
      // The operator's visit: the browser now holds the runner's Basic credentials.
      expect((await page.goto(`${made.base}/`))!.status()).toBe(200);

      // Every request the attacker's pages make to the runner, and the status it was answered with.
      const answers: { method: string; path: string; origin?: string; status?: number; done?: boolean }[] =
        [];
      const byRequest = new Map<Request, (typeof answers)[number]>();
      context.on("request", (request) => {
        if (!request.url().startsWith(made.base)) return;
        const answer = {
          method: request.method(),
          path: new URL(request.url()).pathname,
          origin: request.headers().origin,
        };
        answers.push(answer);
        byRequest.set(request, answer);
      });
      // A blocked frame's full headers may never arrive; its status does.
      context.on("response", (response) => {
        const answer = byRequest.get(response.request());
        if (answer) answer.status = response.status();
      });
      const ended = (request: Request) => {
        const answer = byRequest.get(request);
        if (answer) answer.done = true;
      };
      context.on("requestfinished", ended);
      context.on("requestfailed", ended);
      for (const [n, path] of Object.keys(attackPages(made.base)).entries()) {
        await page.goto(`${attackerBase}${path}`);
        // Its request must end before the next page: navigating away would abort a fetch in flight.
        await waitFor(
          () => answers.length > n && answers.every((a) => a.done),
          15_000,
          `the request of ${path}`,
        );
      }
      await waitFor(() => answers.every((a) => a.done), 15_000, "every request to end");

      // Nothing was registered, no backfill queued and no run started...
      expect(await db.sql`select name from job_definitions`).toHaveLength(0);
      expect(await db.sql`select id from job_backfills`).toHaveLength(0);
      expect(await db.sql`select id from job_runs`).toHaveLength(0);
      expect(made.runner.registry.has("planted")).toBe(false);
      // ...though the browser sent the operator's credentials with the attacker page's requests...
      expect(answers.filter((a) => a.method === "GET").map(({ path, status }) => ({ path, status }))).toEqual(
        [{ path: "/v1/admin/jobs/status", status: 200 }],
      );
      // ...and only the runner's checks stood in the way of each state change.
      const posts = answers.filter((a) => a.method === "POST");
      for (const post of posts) expect(post.status, JSON.stringify(post)).toBe(403);
      expect(posts.map((a) => a.path).toSorted()).toEqual([
        "/api/v1/scheduler/jobs",
        "/api/v1/scheduler/jobs",
        "/api/v1/scheduler/jobs/report/trigger",
        "/ui/jobs/report/backfill",
        "/ui/jobs/report/trigger",
        "/ui/jobs/report/trigger",
        "/v1/jobs/report/trigger",
      ]);
      expect(posts.filter((a) => a.origin === "null")).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("while the operator's own click on the page, scripts off, still starts a run", async (test) => {
    const context = await (await launch(test)).newContext({
      javaScriptEnabled: false,
      httpCredentials: { username: USER, password: PASSWORD, origin: made.base },
    });
    try {
      const page = await context.newPage();
      await page.goto(`${made.base}/`);
      await page.locator('tr[data-job="report"]').getByRole("button", { name: "Run now" }).click();
      await page.waitForURL(/\/runs\/\d+$/);
      const runId = /\/runs\/(\d+)$/.exec(page.url())![1];
      await expect(page.getByRole("heading", { level: 1 }).innerText()).resolves.toBe(
        `Run ${runId} of report`,
      );
      const rows = await db.sql`select job_name, trigger from job_runs where id = ${runId!}`;
      expect(rows).toEqual([{ job_name: "report", trigger: "http" }]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
