import { describe, expect, it } from "vitest";
import { jobsModule, runCli } from "../helpers/process.js";

/** `runner check --jobs <module>`: exit 2 and exactly one line on stderr. */
async function checkFails(path: string): Promise<string> {
  const result = await runCli(["check", "--jobs", path]);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("a jobs module that cannot be loaded (outside the project, real processes)", () => {
  it("names the package it imports that is not installed, not 'file not found'", async () => {
    const path = jobsModule(`import pad from "no-such-package-for-runner";\nexport default [];\n`);
    expect(await checkFails(path)).toBe(
      `runner: --jobs ${path}: module not found: package "no-such-package-for-runner", imported from ${path}; ` +
        "packages are looked up in node_modules of the importing file's folder and the folders above it",
    );
  });

  it("names a relative import that does not exist", async () => {
    const path = jobsModule(`import { helper } from "./helper.mjs";\nexport default [];\n`);
    const helper = path.replace(/jobs\.mjs$/, "helper.mjs");
    expect(await checkFails(path)).toBe(
      `runner: --jobs ${path}: module not found: module "${helper}", imported from ${path}`,
    );
  });

  it("gives a syntax error with its line and column", async () => {
    const path = jobsModule(`export default [\n  { name: "a", schedule: "* * * * *", run() {} ]\n];\n`);
    expect(await checkFails(path)).toBe(`runner: --jobs ${path}:2:48: syntax error: Unexpected token ']'`);
  });

  it("gives what the module threw while loading, with the line", async () => {
    const path = jobsModule(`export default [];\nthrow new Error("no config for jobs");\n`);
    expect(await checkFails(path)).toBe(
      `runner: --jobs ${path}:2:7: the module threw while loading: no config for jobs`,
    );
  });

  it("still says 'file not found' for a module that is not there", async () => {
    expect(await checkFails("/nonexistent/jobs.mjs")).toBe(
      "runner: --jobs /nonexistent/jobs.mjs: file not found",
    );
  });
});
