/**
 * Overload is defined (the scale-out issue's item 3): 30,000 per-second jobs offered to one
 * replica for 30 s, more than one database on this machine records, then the load drops to
 * 5,000. The figure: memory stays bounded, the slots beyond what it could run are recorded missed
 * (at capacity in job_runs, overloaded in the slot ledger), and it recovers by itself.
 */
import { worker } from "./lib.js";
import { percentile } from "./stats.js";

export interface OverloadArgs {
  jobs: number;
  keep: number;
  overloadSeconds: number;
  recoverSeconds: number;
}

interface Overload {
  rssMb: number;
  /** Slots with both a job_runs row and a ledger range (each slot is recorded once: 0). */
  inBoth: number;
  ran: number;
  atCapacity: number;
  overloaded: number;
  rows: number;
  slots: number;
  secondsAfterDrop: number;
  recoverySeconds: number | undefined;
  lastAfterRecovery: number[];
}

/** One run of the worker, as a row of the table (without its target, which the caller says). */
export async function overloadRow(url: string, schema: string, args: OverloadArgs) {
  const r = await worker<Overload>("worker-overload", { ...args, url, schema }, 900_000);
  const recovered = r.recoverySeconds !== undefined;
  const once = r.rows === r.slots && r.inBoth === 0;
  const after = r.lastAfterRecovery;
  return {
    figure: `overload: ${args.jobs} per-second jobs for ${args.overloadSeconds} s, then ${args.keep} for ${args.recoverSeconds} s (peak RSS; slots' fates; recovery after the drop)`,
    runner: `peak RSS ${r.rssMb.toFixed(0)} MB; ${r.ran} slots run, ${r.atCapacity} missed at capacity (job_runs), ${r.overloaded} missed as overloaded (slot ledger); ${r.rows} rows for ${r.slots} slots, ${r.inBoth} slots in both the rows and the ledger; ${recovered ? `every second complete and its last start ≤ 150 ms from ${r.recoverySeconds!.toFixed(1)} s after the drop on (last start then p50 ${percentile(after, 50).toFixed(0)} ms, max ${Math.max(...after).toFixed(0)} ms)` : `NOT recovered within ${r.secondsAfterDrop} s`}`,
    baseline: "—",
    met: once && recovered,
  };
}
