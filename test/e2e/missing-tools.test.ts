import { spawn } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FILES = ["test/e2e/prometheus.test.ts", "test/http/metrics.test.ts", "test/e2e/console.test.ts"];

/**
 * vitest on the files that need chromium, promtool and prometheus, in a child process whose PATH
 * is one folder holding only `node`, so none of the three is found.
 */
function vitestWithoutTools(files: string[], env: Record<string, string> = {}) {
  const bin = mkdtempSync(join(tmpdir(), "runner-no-tools-"));
  symlinkSync(process.execPath, join(bin, "node"));
  const child = spawn(
    process.execPath,
    ["node_modules/vitest/vitest.mjs", "run", "--reporter=verbose", "--color=false", ...files],
    {
      cwd: ROOT,
      env: {
        PATH: bin,
        NO_COLOR: "1",
        HOME: process.env.HOME ?? "/tmp",
        TEST_DATABASE_URL: inject("databaseUrl"),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise<{ code: number | null; output: string }>((done) =>
    child.on("close", (code) => done({ code, output })),
  );
}

describe("tests that need an outside program", () => {
  it("are skipped with the reason when it is missing, and the rest of their file still runs", async () => {
    const { code, output } = await vitestWithoutTools(FILES);
    expect(output).toContain("skipped: prometheus is not installed (apt-get install -y prometheus");
    expect(output).toContain("skipped: promtool is not installed (apt-get install -y prometheus");
    expect(output).toContain("skipped: chromium is not installed (apt-get install -y chromium");
    expect(output).toMatch(/Tests\s+\d+ passed \| 6 skipped/);
    expect(code).toBe(0);
  }, 120_000);

  it("fail instead under RUNNER_TEST_REQUIRE_TOOLS=1, as in CI", async () => {
    const { code, output } = await vitestWithoutTools([FILES[0]!], { RUNNER_TEST_REQUIRE_TOOLS: "1" });
    expect(output).toContain(
      'prometheus is not installed (apt-get install -y prometheus; see README "Development"), and RUNNER_TEST_REQUIRE_TOOLS=1 requires it',
    );
    expect(output).toMatch(/Tests\s+1 failed/);
    expect(code).toBe(1);
  }, 120_000);
});
