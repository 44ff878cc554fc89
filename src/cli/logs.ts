import { ConfigError } from "../errors.js";
import { OutputStore, type OutputRow } from "../store/output.js";
import { type CommonFlags, prepare } from "./context.js";
import { printable } from "./printable.js";

/** How often --follow reads the run's new lines (any replica may be running it). */
const FOLLOW_EVERY_MS = 1000;

/** A run id as the CLI and the API accept it: a job_runs id, digits only. */
export function parseRunId(text: string): string {
  if (!/^[1-9]\d{0,17}$/.test(text))
    throw new ConfigError(`run id ${JSON.stringify(text)}: expected a number`);
  return text;
}

/**
 * `runner logs <run-id> [--follow] [--json]`: the kept output of a run, oldest line first. With
 * --follow, a running run's new lines are printed as they are written (by whichever replica runs
 * it) until the run has finished. An unknown run is exit 2.
 */
export async function logsCommand(
  id: string,
  flags: CommonFlags & { follow?: boolean; json?: boolean },
): Promise<number> {
  const runId = parseRunId(id);
  const { daemon } = await prepare(flags);
  try {
    const { store } = await daemon.connect();
    const output = new OutputStore(store.sql);
    let run = await output.run(runId);
    if (!run) throw new ConfigError(`run ${runId} not found`);
    let after = 0;
    const print = (rows: OutputRow[]) => {
      for (const row of rows) {
        if (flags.json) process.stdout.write(`${JSON.stringify(row)}\n`);
        else process.stdout.write(`${row.at.toISOString()} ${row.stream.padEnd(6)} ${printable(row.line)}\n`);
        after = row.seq;
      }
    };
    const printNew = async () => {
      for (
        let rows = await output.lines(runId, after);
        rows.length > 0;
        rows = await output.lines(runId, after)
      )
        print(rows);
    };
    await printNew();
    // The status is read before the lines: the run's last lines are written just after its
    // outcome, so once it is over one more read after a pause picks them up.
    while (flags.follow && run?.status === "running") {
      await sleep(FOLLOW_EVERY_MS);
      run = await output.run(runId);
      await printNew();
      if (run?.status !== "running") {
        await sleep(FOLLOW_EVERY_MS);
        await printNew();
      }
    }
    return 0;
  } finally {
    await daemon.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
