import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { needTool } from "./tools.js";

/** Where e2e tests leave their screenshots (git-ignored), to be looked at. */
export const OUTPUT = resolve(import.meta.dirname, "../output");

let browser: Browser | undefined;

/**
 * One headless Chromium per test file (vitest gives each file its own module), launched by the
 * first test that needs it; that test is skipped, or failed under RUNNER_TEST_REQUIRE_TOOLS=1,
 * when Chromium is missing (tools.ts).
 */
export async function launch(test: { skip(note: string): never }): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: needTool("chromium", test),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
  return browser;
}

export const closeBrowser = () => browser?.close();

/**
 * The page's serious and critical axe-core violations, one line each (expected: none). axe-core
 * is a script: for a page opened with scripts off, give its credentials, and the same address is
 * checked in a context of its own with scripts on.
 */
export async function seriousViolations(
  page: Page,
  credentials?: { username: string; password: string },
): Promise<string[]> {
  if (credentials) {
    const context = await page.context().browser()!.newContext({ httpCredentials: credentials });
    try {
      const scripted = await context.newPage();
      await scripted.goto(page.url());
      return await seriousViolations(scripted);
    } finally {
      await context.close();
    }
  }
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/**
 * Screenshots of the page at 1400 and 400 px wide (test/output/<name>-1400.png, -400.png), and
 * proof that at 400 px nothing makes the page scroll sideways.
 */
export async function shootBothWidths(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.screenshot({ path: join(OUTPUT, `${name}-1400.png`), fullPage: true });
  await page.setViewportSize({ width: 400, height: 800 });
  const width = await page.evaluate<number>("document.documentElement.scrollWidth");
  expect(width, `${name} at 400 px is ${width} px wide`).toBeLessThanOrEqual(400);
  await page.screenshot({ path: join(OUTPUT, `${name}-400.png`), fullPage: true });
  await page.setViewportSize({ width: 1400, height: 900 });
}
