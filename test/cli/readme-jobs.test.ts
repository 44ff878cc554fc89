import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/process.js";
import { PACKAGE, ROOT, readmeBlock } from "./readme.js";

// Inside the project, so the module's import of the package name resolves to this checkout
// (package self-reference through "exports"), as it would in a project that installed it.
mkdirSync(join(ROOT, "test/output"), { recursive: true });
const dir = mkdtempSync(join(ROOT, "test/output/readme-jobs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's example jobs module", () => {
  it("loads beside the built-in jobs, storage_janitor on, without a clash", async () => {
    const source = readmeBlock(`import { defineJob } from "${PACKAGE.name}"`);
    const name = /name: "([^"]+)"/.exec(source)?.[1];
    const path = join(dir, "jobs.mjs");
    writeFileSync(path, source);
    const result = await runCli(["check", "--jobs", path], { STORAGE_JANITOR_DIR: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `configuration ok: 3 job(s): ${[name, "prune_runs", "storage_janitor"].sort().join(", ")}`,
    );
  });
});
