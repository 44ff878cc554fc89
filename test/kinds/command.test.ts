import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandHandler, commandSpec } from "../../src/kinds/command.js";
import { parseDeclarativeJob } from "../../src/kinds/index.js";
import { context } from "../helpers/context.js";
import { waitFor } from "../helpers/runner.js";

const handler = (spec: unknown) => commandHandler(commandSpec.parse(spec));
const run = (spec: unknown, ctx = context()) => Promise.resolve(handler(spec)(ctx));
/** The error a failing command rejects with; a success fails the test. */
const failure = (spec: unknown, ctx = context()): Promise<Error & { result?: unknown }> =>
  run(spec, ctx).then(
    (result) => {
      throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
    },
    (error: Error) => error,
  );

/** The pid a shell wrote into `file`, once it is there in full. */
function pidIn(file: string): number | undefined {
  try {
    const text = readFileSync(file, "utf8");
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Running, as opposed to gone or a zombie (dead, waiting for init to reap it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("command kind with real processes", () => {
  it("succeeds on exit 0 and keeps stdout and stderr", async () => {
    expect(await run({ argv: ["sh", "-c", "echo out; echo err >&2"] })).toEqual({
      exit_code: 0,
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  it("runs in cwd with env merged over the runner's environment", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "runner-kind-command-")));
    const result = await run(
      {
        shell: 'echo "$GREETING from $RUNNER_JOB_NAME in $(pwd), PATH set: ${PATH:+yes}"',
        cwd: dir,
        env: { GREETING: "hi" },
      },
      context({ jobName: "greeter" }),
    );
    expect(result).toMatchObject({ stdout: `hi from greeter in ${dir}, PATH set: yes\n` });
  });

  it("gets a minimal environment: PATH, HOME, LANG, TZ, RUNNER_*, env_inherit and env, never the daemon's secrets", async () => {
    const daemonEnv = {
      DATABASE_URL: "postgres://app:db-password-1@db/app",
      INTERNAL_SECRET: "internal-secret-2",
      ADMIN_BASIC_PASSWORD: "admin-password-3",
      SOME_TOKEN: "some-token-4",
      SHARED_DIR: "/srv/shared",
      LANG: "C.UTF-8",
      TZ: "Europe/Paris",
      RUNNER_ENV: "test",
    };
    const saved = { ...process.env };
    Object.assign(process.env, daemonEnv);
    try {
      const result = (await run({ argv: ["env"], env: { MODE: "quick" }, env_inherit: ["SHARED_DIR"] })) as {
        stdout: string;
      };
      const names = result.stdout
        .trim()
        .split("\n")
        .map((line) => line.slice(0, line.indexOf("=")));
      // RUNNER_* of the daemon pass, and the runner adds its own (RUNNER_RUN_ID, ...).
      const allowed = new Set(["PATH", "HOME", "LANG", "TZ", "SHARED_DIR", "MODE"]);
      expect(names.filter((name) => !allowed.has(name) && !name.startsWith("RUNNER_"))).toEqual([]);
      expect(names).toEqual(
        expect.arrayContaining(["PATH", "LANG", "RUNNER_ENV", "RUNNER_JOB_NAME", "MODE"]),
      );
      for (const value of ["db-password-1", "internal-secret-2", "admin-password-3", "some-token-4"])
        expect(result.stdout).not.toContain(value);
      expect(result.stdout).toContain("SHARED_DIR=/srv/shared\n");
      expect(result.stdout).toContain("TZ=Europe/Paris\n");
    } finally {
      for (const name of Object.keys(daemonEnv)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it("refuses an env_inherit entry that is not a variable name", () => {
    const parsed = commandSpec.safeParse({ argv: ["true"], env_inherit: ["OK", "NOT A NAME"] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ["env_inherit", 1],
      message: "expected an environment variable name",
    });
  });

  it("passes a shell line's ${NAME} values as environment variables: data, not code, and not in ps", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "runner-kind-command-")), "pwned");
    const evil = `x; echo INJECTED; touch ${marker} $(touch ${marker}) '"`;
    const parsed = parseDeclarativeJob(
      {
        name: "greet",
        schedule: "@daily",
        // The second line prints the shell's own command line, as ps would show it.
        command: { shell: 'echo "${GREETING}"; echo ${GREETING}; tr "\\0" " " < /proc/$$/cmdline' },
      },
      { GREETING: evil },
      "jobs.yaml",
    );
    expect(parsed.problems).toEqual([]);
    const result = (await parsed.job!.run(context())) as { stdout: string };
    const [quoted, unquoted, cmdline] = result.stdout.split("\n");
    // The result is scrubbed of the value (a secret): what matters is that it ran as data.
    expect(quoted).toBe("[REDACTED]");
    expect(unquoted).toBe("[REDACTED]");
    expect(result.stdout).not.toMatch(/^INJECTED$/m);
    expect(cmdline).toBe('/bin/sh -c echo "${GREETING}"; echo ${GREETING}; tr "\\0" " " < /proc/$$/cmdline ');
    expect(() => readFileSync(marker)).toThrow(/ENOENT/);
  });

  it("fails with the exit code and the tail of stderr, keeping the output with the error", async () => {
    const error = await failure({
      shell: "echo working; echo 'step 1 ok' >&2; echo 'disk full' >&2; exit 3",
    });
    expect(error).toMatchObject({
      message: "exited with code 3: step 1 ok | disk full",
      result: { exit_code: 3, stdout: "working\n", stderr: "step 1 ok\ndisk full\n" },
    });
  });

  it("fails when the process is killed by a signal", async () => {
    expect(await failure({ shell: "echo bye >&2; kill -KILL $$" })).toMatchObject({
      message: "killed by SIGKILL: bye",
      result: { exit_code: null },
    });
  });

  it("says what is missing: the program or the working directory", async () => {
    expect((await failure({ argv: ["/nonexistent/tool"] })).message).toBe(
      "could not start /nonexistent/tool: spawn /nonexistent/tool ENOENT",
    );
    expect((await failure({ argv: ["true"], cwd: "/nonexistent/dir" })).message).toBe(
      "working directory /nonexistent/dir does not exist",
    );
  });

  it("fails the run, with the reason, when the program cannot be executed (EACCES)", async () => {
    const script = join(mkdtempSync(join(tmpdir(), "runner-kind-command-")), "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    expect((await failure({ argv: [script] })).message).toBe(
      `could not start ${script}: spawn ${script} EACCES`,
    );
  });

  it("keeps only the last 4 KiB of stdout and of stderr", async () => {
    const result = (await run({
      shell: "head -c 100000 /dev/zero | tr '\\0' a; echo END; head -c 9000 /dev/zero | tr '\\0' e >&2",
    })) as { stdout: string; stderr: string };
    expect(result.stdout).toHaveLength(4096);
    expect(result.stdout).toBe(`${"a".repeat(4092)}END\n`);
    expect(result.stderr).toBe("e".repeat(4096));
  });
});

describe("stopping a command", () => {
  it("sends SIGTERM to the process group: a well-behaved process stops at once", async () => {
    const ctx = context();
    setTimeout(() => ctx.controller.abort(new Error("timed out after 200 ms")), 200);
    // Killed by the SIGTERM itself: no SIGKILL was needed (the message would name it).
    expect((await failure({ argv: ["sleep", "30"] }, ctx)).message).toBe(
      "killed by SIGTERM (timed out after 200 ms)",
    );
  });

  it("SIGKILLs the whole group after kill_grace when SIGTERM is ignored", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "runner-kind-command-")), "child.pid");
    const ctx = context();
    // The shell and its background child both ignore TERM (an ignored signal is inherited).
    const running = failure(
      { shell: `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait; sleep 30`, kill_grace: "400ms" },
      ctx,
    );
    // The shell writes the pid once it has started the child: wait for it, not for a fixed time.
    const grandchild = await waitFor(() => pidIn(pidFile), 10_000, "the grandchild's pid");
    expect(alive(grandchild)).toBe(true);
    const aborted = Date.now();
    ctx.controller.abort(new Error("shutting down"));
    expect((await running).message).toBe("killed by SIGKILL (shutting down)");
    // SIGTERM was ignored, so the SIGKILL came no earlier than kill_grace.
    expect(Date.now() - aborted).toBeGreaterThanOrEqual(390);
    // Not only the shell: its child was in the group and goes too. The SIGKILL is sent, but the
    // kernel ends the process (and init reaps it) a moment later: wait for it.
    await waitFor(() => !alive(grandchild), 10_000, `the grandchild ${grandchild} to be gone`);
  });

  it("starts nothing when the run is already over", async () => {
    const ctx = context();
    ctx.controller.abort(new Error("shutting down"));
    const marker = join(mkdtempSync(join(tmpdir(), "runner-kind-command-")), "ran");
    expect((await failure({ shell: `touch ${marker}` }, ctx)).message).toBe("not started: shutting down");
    expect(() => readFileSync(marker)).toThrow(/ENOENT/);
  });
});
