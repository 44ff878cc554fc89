import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { needTool } from "../helpers/tools.js";

const db = await testDatabase("page");
const OUTPUT = resolve(import.meta.dirname, "../output");
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { ADMIN_BASIC_USERNAME: "ops", ADMIN_BASIC_PASSWORD: "page-pass-1" });
  let n = 0;
  made.runner.registerJob({
    name: "nightly_report",
    schedule: "0 2 * * *",
    description: "the report",
    run: () => new Promise((r) => setTimeout(r, 20 + (n++ % 5) * 10)),
  });
  made.runner.registerJob({
    name: "flaky_sync",
    schedule: "*/15 * * * *",
    run: () => Promise.reject(new Error("upstream 502")),
  });
  await made.runner.start();
  for (let i = 0; i < 5; i++) await (await made.runner.triggerJob("nightly_report")).done;
  await (await made.runner.triggerJob("flaky_sync")).done;
});
afterAll(() => made.runner.stop());

describe("the status page in headless Chromium", () => {
  it("shows every job with its runs and triggers one with a click", async (test) => {
    const browser = await chromium.launch({
      executablePath: needTool("chromium", test),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ httpCredentials: { username: "ops", password: "page-pass-1" } });
      const response = await page.goto(`${made.base}/`);
      expect(response!.status()).toBe(200);
      const report = page.locator('tr[data-job="nightly_report"]');
      await expect(report.locator("td").nth(1).innerText()).resolves.toContain("0 2 * * *");
      await expect(report.locator("td").nth(3).innerText()).resolves.toContain("succeeded");
      expect(await report.locator("svg rect").count()).toBe(5);
      const flaky = page.locator('tr[data-job="flaky_sync"]');
      await expect(flaky.locator("td").nth(4).innerText()).resolves.toBe("1");
      expect(await flaky.locator("svg rect").getAttribute("fill")).toBe("#c62828");

      await report.getByRole("button", { name: "Run now" }).click();
      await page.waitForURL(/\/\?run=\d+$/);
      await expect(page.getByRole("status").innerText()).resolves.toMatch(
        /^Started nightly_report \(run \d+\)$/,
      );
      // The new run is listed once it has finished: reload until the sixth bar appears.
      for (
        let i = 0;
        i < 50 && (await page.locator('tr[data-job="nightly_report"] svg rect').count()) < 6;
        i++
      ) {
        await page.waitForTimeout(100);
        await page.reload();
      }
      expect(await page.locator('tr[data-job="nightly_report"] svg rect').count()).toBe(6);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, "status-page.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("asks for credentials, and refuses a cross-origin form post", async () => {
    const anonymous = await made.request("/");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic/);
    const res = await made.request("/ui/jobs/nightly_report/trigger", {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("ops:page-pass-1").toString("base64")}`,
        origin: "https://evil.example",
      },
    });
    expect(res.status).toBe(403);
  });
});
