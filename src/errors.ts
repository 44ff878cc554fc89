/** Exit codes (docs/contract.md#exit-codes). */
export const EXIT = { ok: 0, runFailed: 1, usage: 2, databaseUnreachable: 3 } as const;

/**
 * A problem with what the user gave us: flags, environment, a jobs file, a job.
 * Each entry of `problems` is one line naming what is wrong; the CLI prints them and exits 2.
 */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[] | string) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.join("\n"));
    this.name = "ConfigError";
    this.problems = list;
  }
}

/** The database could not be reached within the startup window (exit 3). */
export class DatabaseUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnreachableError";
  }
}

/**
 * The database answered but refused us for a reason retrying cannot fix: wrong credentials, no
 * such database, no permission (exit 3 at once, like an unreachable one).
 */
export class DatabaseRefusedError extends DatabaseUnreachableError {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseRefusedError";
  }
}

/** The message of anything thrown, including non-Error values. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return `non-Error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-Error thrown: ${String(error)}`;
  }
}
