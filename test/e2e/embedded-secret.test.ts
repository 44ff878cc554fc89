import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RunnerProcess } from "../helpers/process.js";

const cwd = mkdtempSync(join(tmpdir(), "runner-embedded-secret-"));
chmodSync(cwd, 0o755);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("the embedded server's password", () => {
  it("is scrubbed from log lines and run results like DATABASE_URL's", async () => {
    // A job that echoes the password file: into its log and its result.
    writeFileSync(
      join(cwd, "leak.mjs"),
      `import { readFileSync } from "node:fs";
export default [{ name: "leak", schedule: "@yearly", run: (ctx) => {
  const password = readFileSync(".runner/password", "utf8").trim();
  ctx.log.info("the password is " + password);
  return { password };
} }];`,
    );
    const once = new RunnerProcess(["--once", "--job", "leak", "--jobs", "leak.mjs"], {}, cwd);
    const done = await once.exited;
    expect(done.code).toBe(0);
    const password = readFileSync(join(cwd, ".runner", "password"), "utf8").trim();
    expect(password).toHaveLength(32);
    expect(done.stdout).toContain("the password is [REDACTED]");
    expect(done.stdout + done.stderr).not.toContain(password);

    const history = await new RunnerProcess(["history", "leak", "--json", "--jobs", "leak.mjs"], {}, cwd)
      .exited;
    expect(history.code).toBe(0);
    expect(history.stdout).not.toContain(password);
    const [run] = (JSON.parse(history.stdout) as { runs: { status: string; result: unknown }[] }).runs;
    expect(run).toMatchObject({ status: "succeeded", result: { password: "[REDACTED]" } });
  }, 120_000);
});
