import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PauseStore } from "../../src/store/pauses.js";
import { closeBrowser, launch, seriousViolations, shootBothWidths } from "../helpers/browser.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

/**
 * The console in headless Chromium, scripts off (it must work without them), with a healthy, a
 * failing, a paused and a running job. The failing job's error and output carry markup, which
 * every page must show as text.
 */
const db = await testDatabase("console");
const XSS = `<img src=x onerror="document.title='owned'"><script>document.title='owned'</script>`;
const AUTH = { username: "ops", password: "console-pass-1" };
let made: Awaited<ReturnType<typeof sidecarRunner>>;
let release: () => void = () => {};
let failedRun: string;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    ADMIN_BASIC_USERNAME: AUTH.username,
    ADMIN_BASIC_PASSWORD: AUTH.password,
  });
  const { runner } = made;
  runner.registerJob({
    name: "nightly_report",
    schedule: "30 2 * * 1-5",
    timezone: "Europe/Paris",
    description: "the weekday report",
    run: () => ({ rows: 42 }),
  });
  runner.registerJob({
    name: "flaky_sync",
    schedule: "*/15 * * * *",
    run: (ctx) => {
      ctx.log.info(`fetching ${XSS}`);
      throw new Error(`upstream said ${XSS}`);
    },
  });
  runner.registerJob({ name: "held_export", schedule: "0 * * * *", run: () => {} });
  runner.registerJob({
    name: "long_import",
    schedule: "@daily",
    run: (ctx) => {
      ctx.progress(3, 10);
      return new Promise<void>((resolve) => (release = resolve));
    },
  });
  await runner.start();
  for (let i = 0; i < 3; i++) await (await runner.triggerJob("nightly_report")).done;
  let last = await runner.triggerJob("flaky_sync");
  await last.done;
  last = await runner.triggerJob("flaky_sync");
  await last.done;
  failedRun = last.runId;
  await (await runner.triggerJob("held_export")).done;
  await new PauseStore(db.sql).pause("held_export", {
    by: "ops",
    reason: "waiting for <b>the vendor</b>",
    until: new Date(Date.now() + 3600_000),
  });
  await runner.triggerJob("long_import");
  await waitFor(
    async () => (await db.sql`select 1 from job_run_output where run_id = ${failedRun}`).length > 0,
    10_000,
    "the failing run's output",
  );
});
afterAll(async () => {
  await closeBrowser();
  release();
  await made.runner.stop();
});

/**
 * A page of the console. axe-core runs as a script in the page, so by default scripts are on and
 * the CSP is bypassed: markup that escaped escaping would run and retitle the page. `noScript`
 * shows the pages need none.
 */
async function open(test: { skip(note: string): never }, path: string, noScript = false) {
  const context = await (await launch(test)).newContext({
    httpCredentials: AUTH,
    ...(noScript ? { javaScriptEnabled: false } : { bypassCSP: true }),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const response = await page.goto(`${made.base}${path}`);
  expect(response!.status()).toBe(200);
  // The markup in the error and output stayed text: no element made of it, the title untouched.
  expect(await page.locator('img[src="x"], main script').count()).toBe(0);
  expect(await page.title()).not.toBe("owned");
  return { page, context };
}

describe("the console in headless Chromium", () => {
  it("overview: counts, a row per job with its state, a strip with a legend, filters and search", async (test) => {
    const { page, context } = await open(test, "/");
    const counts = await page.getByRole("list", { name: "counts" }).innerText();
    expect(counts.replace(/\s+/g, " ")).toContain("4 jobs 1 running now 1 failing 1 paused");
    const report = page.locator('tr[data-job="nightly_report"]');
    expect(await report.innerText()).toContain("At 02:30, Monday through Friday");
    expect(await report.innerText()).toContain("Europe/Paris");
    expect(await report.locator(".cell.c-succeeded").count()).toBe(3);
    const flaky = page.locator('tr[data-job="flaky_sync"]');
    expect(await flaky.innerText()).toContain("2 consecutive failures");
    // A failure's cell is as big as a success's, and names the error.
    expect(await flaky.locator(".cell.c-failed").count()).toBe(2);
    expect(await flaky.locator(".cell.c-failed").first().getAttribute("title")).toContain(
      `upstream said ${XSS}`,
    );
    expect(await page.locator('tr[data-job="held_export"]').innerText()).toContain(
      "by ops: waiting for <b>the vendor</b>, until",
    );
    expect(await page.locator('tr[data-job="long_import"]').innerText()).toContain("running 1 (3/10)");
    expect(await page.getByRole("list", { name: "run strip legend" }).innerText()).toContain("abandoned");
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-overview");
    await context.close();
  }, 60_000);

  it("overview filters and search are links and a GET form: they work with scripts off", async (test) => {
    const { page, context } = await open(test, "/", true);
    await page.getByRole("link", { name: "failing", exact: true }).click();
    expect(
      await page.locator("tbody tr[data-job]").evaluateAll((rows) => rows.map((r) => r.dataset.job)),
    ).toEqual(["flaky_sync"]);
    await page.getByRole("searchbox").fill("import");
    await page.getByRole("button", { name: "Search" }).click();
    expect(page.url()).toMatch(/\/\?filter=failing&q=import$/);
    expect(await page.getByText("No job matches.").count()).toBe(1);
    await page.goto(`${made.base}/?filter=running`);
    expect(await page.locator("tbody tr[data-job]").count()).toBe(1);
    await context.close();
  }, 60_000);

  it("job page: definition, next instants in its zone and UTC, history linking to runs, forms", async (test) => {
    const { page, context } = await open(test, "/jobs/flaky_sync");
    expect(await page.locator("dl.def").innerText()).toContain("Every 15 minutes");
    const history = page.locator("#history ~ table tbody tr");
    expect(await history.count()).toBe(2);
    expect(await history.first().innerText()).toContain(`upstream said ${XSS}`);
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-job-failing");

    await page.goto(`${made.base}/jobs/nightly_report`);
    const next = page.locator("#next ~ table tbody tr");
    expect(await next.count()).toBe(10);
    expect(await next.first().innerText()).toMatch(/02:30:00 \+0[12]:00[\s\S]*0[01]:30:00 UTC/);
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-job-healthy");

    await page.goto(`${made.base}/jobs/held_export`);
    expect(await page.getByRole("status").innerText()).toMatch(
      /^Paused by ops: waiting for <b>the vendor<\/b>, until /,
    );
    expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-job-paused");

    await page.goto(`${made.base}/jobs/long_import`);
    expect(await page.locator("main").innerText()).toContain("running 1 (3/10)");
    expect(await page.locator("#history ~ table tbody tr").first().innerText()).toContain("running");
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-job-running");
    await context.close();
  }, 60_000);

  it("run page: a failed run's error, stack and output as text; a running run can be followed", async (test) => {
    const { page, context } = await open(test, `/runs/${failedRun}`);
    expect(await page.locator("#error ~ pre").first().innerText()).toBe(`upstream said ${XSS}`);
    expect(await page.locator("details pre").innerText()).toMatch(/^Error: upstream said [\s\S]*\n\s+at /);
    expect(await page.locator("table.out").innerText()).toContain(`info fetching ${XSS}`);
    expect(await page.locator("ol.timeline").innerText()).toMatch(/Claimed: .+ UTC/);
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-run-failed");

    const [running] = await db.sql<{ id: string }[]>`
      select id::text from job_runs where job_name = 'long_import' and status = 'running'`;
    await page.goto(`${made.base}/runs/${running!.id}`);
    expect(await page.locator("dl.def").innerText()).toContain("3 of 10");
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await shootBothWidths(page, "console-run-running");
    // Following is asked for: the page then reloads itself until the run ends.
    await page.getByRole("link", { name: "Follow the output" }).click();
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe(
      `3; url=/runs/${running!.id}?follow=1`,
    );
    expect(await page.getByRole("link", { name: "Stop following" }).count()).toBe(1);
    await context.close();
  }, 60_000);

  it("sends the markup escaped, under the strict CSP, and only to the admin", async () => {
    const admin = basic(AUTH.username, AUTH.password);
    for (const path of ["/", "/jobs/flaky_sync", `/runs/${failedRun}`]) {
      const res = await made.request(path, { headers: admin });
      expect(res.headers.get("content-security-policy")).toBe(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(res.headers.get("server-timing")).toMatch(/^app;dur=\d+\.\d$/);
      const html = await res.text();
      expect(html).not.toContain("<img src=x");
      expect(html).toContain("&lt;img src=x onerror=&quot;document.title=&#39;owned&#39;&quot;&gt;");
      expect((await made.request(path)).status).toBe(401);
    }
    expect((await made.request("/jobs/nothing_here", { headers: admin })).status).toBe(404);
    expect((await made.request("/runs/abc", { headers: admin })).status).toBe(400);
    expect((await made.request("/?filter=broken", { headers: admin })).status).toBe(400);
    expect((await made.request("/jobs/flaky_sync?status=bogus", { headers: admin })).status).toBe(400);
  });
});
