import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE, ROOT, readmeBlock } from "../cli/readme.js";
import { testDatabase } from "../helpers/db.js";

/**
 * The package as a user gets it: `npm pack` of a checkout without dist/ (prepare must build it),
 * the tarball installed into a new project, then its bin, a jobs module that imports the package
 * and README's in-process example. One pack and one install for the whole file: they are slow.
 */
const run = promisify(execFile);
const db = await testDatabase("pkg");
const work = mkdtempSync(join(tmpdir(), "runner-package-"));
const app = join(work, "app");

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // npm_config_yes=false: npx must use the installed bin, never fetch a package of that name.
  return { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_yes: "false", ...extra };
}

const sh = (cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}) =>
  run(cmd, args, { cwd, env: env(extra), timeout: 240_000, maxBuffer: 32 * 1024 * 1024 });

beforeAll(async () => {
  // A fresh checkout: the tracked sources, no dist/. node_modules is linked for tsc only.
  const checkout = join(work, "checkout");
  mkdirSync(checkout);
  for (const entry of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "README.md",
    "src",
    "sql",
    "bin",
  ])
    cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
  await sh("npm", ["pack", "--pack-destination", work, "--silent"], checkout);
  const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await sh("npm", ["install", join(work, tarball), "--no-audit", "--no-fund", "--prefer-offline"], app);
}, 400_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed package, installed into a new project", () => {
  it("answers `npx runner --help` with its own commands", async () => {
    const { stdout } = await sh("npx", ["runner", "--help"], app);
    expect(stdout).toContain("Usage: runner");
    expect(stdout).toContain("Runs named cron jobs");
    for (const command of ["migrate", "jobs", "history", "check"]) expect(stdout).toContain(command);
  });

  it("loads README's jobs module, which imports defineJob from the package name", async () => {
    const module = readmeBlock(`import { defineJob } from "${PACKAGE.name}"`);
    writeFileSync(join(app, "jobs.mjs"), module);
    const { stdout } = await sh("npx", ["runner", "jobs", "--json", "--jobs", "jobs.mjs"], app);
    const jobs = (JSON.parse(stdout) as { jobs: { name: string; source: string }[] }).jobs;
    expect(jobs.find((job) => job.source === "jobs.mjs")).toMatchObject({ name: expect.any(String) });
  });

  it("runs README's in-process Runner example against the database", async () => {
    writeFileSync(join(app, "example.mjs"), readmeBlock(`import { Runner } from "${PACKAGE.name}"`));
    const { stdout } = await sh("node", ["example.mjs"], app, {
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
      HTTP_PORT: "0",
    });
    expect(stdout.split("\n")).toContain("succeeded");
    const rows = await db.sql`select status, result from job_runs where job_name = 'report'`;
    expect(rows).toEqual([{ status: "succeeded", result: { rows: 42 } }]);
  });
});
