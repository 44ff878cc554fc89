import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Outside programs some tests need. On a machine without one, those tests are skipped with the
 * reason shown; with RUNNER_TEST_REQUIRE_TOOLS=1 (set by .ci/run) a missing program fails them
 * instead, so CI keeps proving what they prove.
 */
export const TOOLS = {
  chromium: { names: ["chromium", "chromium-browser"], install: "apt-get install -y chromium" },
  promtool: { names: ["promtool"], install: "apt-get install -y prometheus" },
  prometheus: { names: ["prometheus"], install: "apt-get install -y prometheus" },
  faketime: { names: ["faketime"], install: "apt-get install -y faketime" },
} as const;

export type Tool = keyof typeof TOOLS;

/** The first executable named `names` on PATH, or undefined. */
export function findOnPath(names: readonly string[], path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Whether a missing tool fails the test (CI) rather than skipping it. */
export const toolsRequired = (env: NodeJS.ProcessEnv = process.env) => env.RUNNER_TEST_REQUIRE_TOOLS === "1";

/** The one-line reason a test cannot run without `tool`. */
export const missingReason = (tool: Tool) =>
  `${tool} is not installed (${TOOLS[tool].install}; see README "Development")`;

/**
 * The path of `tool`, or: skip the calling test with the reason, or fail it when tools are
 * required. `test` is the test's context.
 */
export function needTool(tool: Tool, test: { skip(note: string): never }): string {
  const path = findOnPath(TOOLS[tool].names);
  if (path) return path;
  const reason = missingReason(tool);
  if (toolsRequired()) throw new Error(`${reason}, and RUNNER_TEST_REQUIRE_TOOLS=1 requires it`);
  // Also on stderr: the default reporter shows a skip's note only next to the test's name.
  process.stderr.write(`skipped: ${reason}\n`);
  return test.skip(reason);
}

/** Where Debian (any architecture) and a source build put libfaketime, the faketime package's preload. */
const FAKETIME_LIBRARY_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib",
  "/usr/local/lib",
];

/**
 * The libfaketime shared object to LD_PRELOAD into a child, once `needTool("faketime", ...)` found
 * the package; its absence then is a broken install, so it throws.
 */
export function fakeTimeLibrary(): string {
  for (const dir of FAKETIME_LIBRARY_DIRS) {
    const candidate = join(dir, "faketime", "libfaketime.so.1");
    try {
      accessSync(candidate, constants.R_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `faketime is installed but libfaketime.so.1 is in none of ${FAKETIME_LIBRARY_DIRS.join(", ")}`,
  );
}
