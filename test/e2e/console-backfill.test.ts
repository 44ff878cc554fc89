import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeBrowser, launch, seriousViolations, shootBothWidths } from "../helpers/browser.js";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

/**
 * The job page's backfill form and its "Slots" section, in headless Chromium with scripts off: a
 * dry run lists the window's slots and queues nothing; "Run this backfill" queues it, the
 * running daemon runs the missing slots (trigger backfill) and the page shows the request
 * finished. A per-second job paused from the page shows a ran range and a paused range, each with
 * its reason.
 */
const db = await testDatabase("console_backfill");
const AUTH = { username: "ops", password: "console-backfill-pass-3" };
const HOUR = 3_600_000;
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, {
    ADMIN_BASIC_USERNAME: AUTH.username,
    ADMIN_BASIC_PASSWORD: AUTH.password,
    JOB_LOOP_INTERVAL_SECONDS: "1",
  });
  made.runner.registerJob({ name: "hourly_export", schedule: "0 * * * *", run: () => ({ ok: true }) });
  made.runner.registerJob({ name: "ticker", schedule: "* * * * * *", run: () => {} });
  await made.runner.start();
});
afterAll(async () => {
  await closeBrowser();
  await made.runner.stop();
});

/** Three past hourly slots, none of which ran (the runner was not up then). */
const firstSlot = new Date(Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR);
const slots = [0, 1, 2].map((i) => new Date(firstSlot.getTime() + i * HOUR));
const minute = (at: Date) => at.toISOString().slice(0, 16);

describe("the job page's backfill form", () => {
  it("a dry run lists the slots; the real one runs them and the page shows the request finished", async (test) => {
    const context = await (await launch(test)).newContext({
      javaScriptEnabled: false,
      httpCredentials: AUTH,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    await page.goto(`${made.base}/jobs/hourly_export`);
    await page.getByLabel("From (UTC, required)").fill(minute(slots[0]!));
    await page.getByLabel("To (UTC, required)").fill(minute(slots[2]!));
    await page.getByLabel("Concurrency (runs at once, 1 to 100; optional, default 1)").fill("2");
    expect(await page.getByLabel("Dry run: list the slots, run nothing").isChecked()).toBe(true);
    await page.getByRole("button", { name: "Backfill" }).click();

    // The dry run: its own page, the three slots in UTC, nothing stored or audited.
    await page.waitForURL(`${made.base}/ui/jobs/hourly_export/backfill`);
    expect(await page.getByRole("status").innerText()).toBe(
      `${slots[0]!.toISOString().replace("T", " ").slice(0, 19)} UTC – ${slots[2]!.toISOString().replace("T", " ").slice(0, 19)} UTC: 3 slots would run; 0 already succeeded and would not run again. Nothing was queued.`,
    );
    expect(await page.locator("tbody tr td:last-child").allInnerTexts()).toEqual(
      slots.map((at) => `${at.toISOString().replace("T", " ").slice(0, 19)} UTC`),
    );
    expect(await page.getByText("Limits: concurrency 2, rate no limit.").count()).toBe(1);
    expect(await db.sql`select id from job_backfills`).toHaveLength(0);
    // axe-core is a script, and a POST's answer cannot be fetched again by address: the same dry
    // run in a context with scripts on.
    const scripted = await (await launch(test)).newContext({ httpCredentials: AUTH });
    const checked = await scripted.newPage();
    await checked.goto(`${made.base}/jobs/hourly_export`);
    await checked.getByLabel("From (UTC, required)").fill(minute(slots[0]!));
    await checked.getByLabel("To (UTC, required)").fill(minute(slots[2]!));
    await checked.getByRole("button", { name: "Backfill" }).click();
    await checked.getByRole("button", { name: "Run this backfill" }).waitFor();
    expect(await seriousViolations(checked)).toEqual([]);
    await shootBothWidths(checked, "console-backfill-dry-run");
    await scripted.close();

    // For real: queued, then to the job page; the daemon's loop runs the three slots.
    await page.getByRole("button", { name: "Run this backfill" }).click();
    await page.waitForURL(`${made.base}/jobs/hourly_export#backfills`);
    const ran = await waitFor(
      async () => {
        const rows = await db.sql<{ scheduled_for: Date; status: string }[]>`
          select scheduled_for, status from job_runs
          where job_name = 'hourly_export' and trigger = 'backfill' order by scheduled_for`;
        return rows.length === 3 && rows.every((r) => r.status === "succeeded") ? rows : undefined;
      },
      30_000,
      "the three backfill runs",
    );
    expect(ran.map((r) => r.scheduled_for)).toEqual(slots);
    const [request] = await waitFor(
      async () => {
        const rows = await db.sql<{ id: string }[]>`
          select id::text from job_backfills where finished_at is not null`;
        return rows.length === 1 ? rows : undefined;
      },
      30_000,
      "the request to finish",
    );
    await page.reload();
    const listed = await page.locator("#backfills ~ table tbody tr").allInnerTexts();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toContain(request!.id);
    expect(listed[0]).toContain("concurrency 2");
    expect(listed[0]).toContain("ops");
    expect(listed[0]).toMatch(/finished .* UTC: 3 slots, 3 succeeded, 0 failed, 0 had succeeded before/);

    // Its slots read as backfilled in the Slots section: one range of the three, oldest last.
    const slotRows = await page.locator("#slots ~ table tbody tr").allInnerTexts();
    expect(
      slotRows
        .at(-1)!
        .split("\t")
        .map((cell) => cell.trim()),
    ).toEqual([
      `${slots[0]!.toISOString().replace("T", " ").slice(0, 19)} UTC`,
      `${slots[2]!.toISOString().replace("T", " ").slice(0, 19)} UTC`,
      "3",
      "backfilled",
      "succeeded",
      "–",
    ]);

    const trail = await db.sql<{ actor: string; details: Record<string, unknown> }[]>`
      select actor, details from job_audit where action = 'backfill'`;
    expect(trail).toEqual([
      {
        actor: "ops",
        details: {
          backfill_id: request!.id,
          from: slots[0]!.toISOString(),
          to: slots[2]!.toISOString(),
          concurrency: 2,
          rate: null,
        },
      },
    ]);
    expect(await seriousViolations(page, AUTH)).toEqual([]);
    await shootBothWidths(page, "console-job-backfilled");
    await context.close();
  }, 90_000);

  it("the Slots section shows a ran range and a paused range with their reasons", async (test) => {
    const context = await (await launch(test)).newContext({
      javaScriptEnabled: false,
      httpCredentials: AUTH,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    await waitFor(
      async () => (await db.sql`select 1 from job_runs where job_name = 'ticker'`).length >= 3,
      15_000,
      "three ticks",
    );
    await page.goto(`${made.base}/jobs/ticker`);
    await page.getByLabel("Reason (required)").fill("disk swap on the warehouse");
    await page.getByRole("button", { name: "Pause" }).click();
    await page.waitForURL(`${made.base}/jobs/ticker`);
    // The ledger writer folds the paused slots and writes them every 5 s.
    await waitFor(
      async () =>
        (await db.sql`select 1 from job_slots where job_name = 'ticker' and fate = 'paused'`).length > 0,
      20_000,
      "the paused slots in the ledger",
    );
    await page.reload();
    const rows = await page.locator("#slots ~ table tbody tr").allInnerTexts();
    const paused = rows.find((r) => r.includes("paused"));
    expect(paused).toMatch(/paused\s+.*disk swap on the warehouse/);
    expect(rows.some((r) => /\bran\s+succeeded/.test(r))).toBe(true);
    // Newest first: the paused range is above the ranges that ran.
    expect(rows.indexOf(paused!)).toBeLessThan(rows.findIndex((r) => /\bran\s+succeeded/.test(r)));
    expect(await page.locator("#slots ~ p strong").innerText()).not.toBe("");
    expect(await seriousViolations(page, AUTH)).toEqual([]);
    await shootBothWidths(page, "console-job-slots-paused");
    await context.close();
  }, 60_000);

  it("refuses a post without the page's token or from another site, and bad input with a one-line 400", async () => {
    const admin = basic(AUTH.username, AUTH.password);
    const html = await (await made.request("/jobs/hourly_export", { headers: admin })).text();
    const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
    const post = (
      form: Record<string, string>,
      headers: Record<string, string> = {},
      name = "hourly_export",
    ) =>
      made.request(`/ui/jobs/${name}/backfill`, {
        method: "POST",
        headers: { ...admin, origin: made.base, ...headers },
        body: new URLSearchParams(form),
        redirect: "manual",
      });
    const window = { from: minute(slots[0]!), to: minute(slots[1]!) };
    const before = await db.sql`select id from job_backfills`;
    expect((await post(window)).status).toBe(403);
    expect((await post({ ...window, token: "1.forged" })).status).toBe(403);
    expect((await post({ ...window, token }, { origin: "https://evil.example" })).status).toBe(403);
    expect((await post({ ...window, token }, { origin: "null" })).status).toBe(403);
    expect((await post({ ...window, token }, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ ...window, token }, { authorization: "" })).status).toBe(401);
    const answer = async (res: Response) => [res.status, ((await res.json()) as { error: string }).error];
    expect(await answer(await post({ token, from: "", to: window.to }))).toEqual([
      400,
      "from: required, an ISO time with a zone, e.g. 2026-03-29T00:00Z",
    ]);
    expect(await answer(await post({ token, from: window.to, to: window.from }))).toEqual([
      400,
      `from: ${slots[1]!.toISOString()} is after to (${slots[0]!.toISOString()})`,
    ]);
    expect(await answer(await post({ token, ...window, concurrency: "0" }))).toEqual([
      400,
      'concurrency: expected an integer from 1 to 100 (got "0")',
    ]);
    expect(await answer(await post({ token, ...window, rate: "fast" }))).toEqual([
      400,
      'rate: expected slots per second above 0 and at most 1000, e.g. 5/s (got "fast")',
    ]);
    expect(await answer(await post({ token, ...window }, {}, "nothing"))).toEqual([
      404,
      'unknown job "nothing"',
    ]);
    expect(await db.sql`select id from job_backfills`).toEqual(before);
  });
});
