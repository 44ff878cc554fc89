import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeBrowser, launch, seriousViolations, shootBothWidths } from "../helpers/browser.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

/**
 * The job page's forms, clicked in headless Chromium with scripts off: pause with a reason and an
 * expiry, resume, and run now with params, ending on the run's page with its output. Each is in
 * the audit trail under the Basic user.
 */
const db = await testDatabase("console_actions");
const AUTH = { username: "ops", password: "console-pass-2" };
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    ADMIN_BASIC_USERNAME: AUTH.username,
    ADMIN_BASIC_PASSWORD: AUTH.password,
  });
  made.runner.registerJob({
    name: "export_orders",
    schedule: "0 3 * * *",
    run: (ctx) => {
      ctx.log.info(`exporting region ${ctx.params.region}`);
      ctx.log.warn("2 orders had no customer");
      return { exported: 17, region: ctx.params.region };
    },
  });
  made.runner.registerJob({
    name: "tail_import",
    schedule: "@yearly",
    run: (ctx) =>
      new Promise<void>((resolve) => {
        say = (line) => ctx.log.info(line);
        finish = resolve;
        tailing = true;
      }),
  });
  await made.runner.start();
});
let tailing = false;
let say: (line: string) => void = () => {};
let finish: () => void = () => {};
afterAll(async () => {
  await closeBrowser();
  await made.runner.stop();
});

const audit = () =>
  db.sql<{ actor: string; action: string; details: Record<string, unknown> }[]>`
    select actor, action, details from job_audit where job_name = 'export_orders' order by id`;

describe("the job page's forms", () => {
  it("pause with a reason and an expiry, resume, run now with params: each shows and is audited", async (test) => {
    const context = await (await launch(test)).newContext({
      javaScriptEnabled: false,
      httpCredentials: AUTH,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    await page.goto(`${made.base}/jobs/export_orders`);

    // Pause: the reason is required (the browser will not send the form without it).
    await page.getByRole("button", { name: "Pause" }).click();
    expect(page.url()).toBe(`${made.base}/jobs/export_orders`);
    await page.getByLabel("Reason (required)").fill("warehouse migration");
    const until = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 16);
    await page.getByLabel("Until (UTC, optional)").fill(until);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.waitForURL(`${made.base}/jobs/export_orders`);
    expect(await page.getByRole("status").innerText()).toBe(
      `Paused by ops: warehouse migration, until ${until.replace("T", " ")}:00 UTC`,
    );
    const [state] = await db.sql`select paused, paused_by, paused_reason, paused_until from job_state
      where job_name = 'export_orders'`;
    expect(state).toEqual({
      paused: true,
      paused_by: "ops",
      paused_reason: "warehouse migration",
      paused_until: new Date(`${until}Z`),
    });
    expect(await seriousViolations(page, AUTH)).toEqual([]);
    await shootBothWidths(page, "console-job-paused-by-form");

    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForURL(`${made.base}/jobs/export_orders`);
    expect(await page.getByRole("status").count()).toBe(0);
    expect((await db.sql`select paused from job_state where job_name = 'export_orders'`)[0]!.paused).toBe(
      false,
    );

    // Run now with params: to the run's page, which shows them, the result and the output.
    await page.getByLabel("Params (a JSON object of strings, optional)").fill('{"region": "eu-west"}');
    await page.getByRole("button", { name: "Run now" }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = /\/runs\/(\d+)$/.exec(page.url())![1]!;
    await waitFor(
      async () => (await db.sql`select 1 from job_run_output where run_id = ${runId}`).length === 2,
      10_000,
      "the run's two output lines",
    );
    await page.reload();
    expect(await page.locator("#params ~ pre").innerText()).toBe('{\n  "region": "eu-west"\n}');
    expect(await page.locator("#result ~ pre").innerText()).toContain('"exported": 17');
    const output = await page.locator("table.out tbody").innerText();
    expect(output).toContain("info exporting region eu-west");
    expect(output).toContain("warn 2 orders had no customer");
    expect(await seriousViolations(page, AUTH)).toEqual([]);
    await shootBothWidths(page, "console-run-with-output");

    expect((await audit()).map(({ actor, action, details }) => ({ actor, action, details }))).toEqual([
      { actor: "runner", action: "register", details: expect.any(Object) },
      {
        actor: "ops",
        action: "pause",
        details: { reason: "warehouse migration", until: `${until}:00.000Z` },
      },
      { actor: "ops", action: "resume", details: {} },
      { actor: "ops", action: "trigger", details: { run_id: runId } },
    ]);
    await context.close();
  }, 60_000);

  it("follows a running run's output: the page reloads itself, shows each new line, stops at the end", async (test) => {
    const context = await (await launch(test)).newContext({
      javaScriptEnabled: false,
      httpCredentials: AUTH,
    });
    const page = await context.newPage();
    const { runId } = await made.runner.triggerJob("tail_import");
    await waitFor(() => tailing, 5000, "the run to start");
    await page.goto(`${made.base}/runs/${runId}`);
    await page.getByRole("link", { name: "Follow the output" }).click();
    say("rows 1-1000 imported");
    await page.getByText("info rows 1-1000 imported").waitFor({ timeout: 20_000 });
    say("rows 1001-2000 imported");
    await page.getByText("info rows 1001-2000 imported").waitFor({ timeout: 20_000 });
    finish();
    await page.getByText("succeeded", { exact: true }).waitFor({ timeout: 20_000 });
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    await context.close();
  }, 60_000);

  it("refuses bad input with a one-line 400 and a form without the page's token; shows no known secret", async () => {
    const admin = {
      authorization: `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString("base64")}`,
    };
    const html = await (await made.request("/jobs/export_orders", { headers: admin })).text();
    const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
    const post = (what: string, form: Record<string, string>) =>
      made.request(`/ui/jobs/export_orders/${what}`, {
        method: "POST",
        headers: { ...admin, origin: made.base },
        body: new URLSearchParams(form),
        redirect: "manual",
      });
    const answer = async (res: Response) => [res.status, ((await res.json()) as { error: string }).error];
    expect(await answer(await post("pause", { token, reason: " " }))).toEqual([
      400,
      "reason: required, say why the job is paused",
    ]);
    expect(await answer(await post("pause", { token, reason: "x", until: "2001-01-01T00:00" }))).toEqual([
      400,
      "until: must be in the future",
    ]);
    expect(await answer(await post("trigger", { token, params: "[1]" }))).toEqual([
      400,
      "params: expected a JSON object whose values are strings",
    ]);
    expect(await answer(await post("trigger", { token, params: "{" }))).toEqual([
      400,
      'params: expected a JSON object such as {"region": "eu"}',
    ]);
    expect((await post("pause", { reason: "no token" })).status).toBe(403);
    expect((await post("resume", { token: "1.forged" })).status).toBe(403);
    expect(await post("pause", { token, reason: "x" }).then((r) => r.status)).toBe(303);
    expect(
      (
        await made.request("/ui/jobs/nothing/pause", {
          method: "POST",
          headers: { ...admin, origin: made.base },
          body: new URLSearchParams({ token, reason: "x" }),
        })
      ).status,
    ).toBe(404);
    await post("resume", { token });

    // A secret the runner knows (here the admin password), passed as a param, is not shown back.
    const location = (
      await post("trigger", { token, params: JSON.stringify({ region: AUTH.password }) })
    ).headers.get("location")!;
    const runId = /^\/runs\/(\d+)$/.exec(location)![1]!;
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_runs where id = ${runId} and status = 'succeeded'`).length > 0,
    );
    const page = await made.request(location, { headers: admin });
    expect(page.status).toBe(200);
    const shown = await page.text();
    expect(shown).toContain("{\n  &quot;region&quot;: &quot;");
    expect(shown).not.toContain(AUTH.password);
  });
});
