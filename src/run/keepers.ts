import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Store } from "../store/store.js";
import type { RunEventBus } from "./events.js";
import { keepLedger } from "./ledger.js";
import { keepOutput } from "./output.js";
import { autoPause } from "./pausing.js";
import { keepProgress } from "./progress.js";

/**
 * The run-event listeners that keep what runs report in the database: progress, output, the
 * pauses a job makes itself, and the slot ledger. Returns the stop hooks that write what is left.
 */
export function keepRecords(
  events: RunEventBus,
  store: Store,
  config: Config,
  log: Logger,
): (() => Promise<void>)[] {
  keepProgress(events, store, log);
  const output = keepOutput(events, store.sql, config, log);
  autoPause(events, store.sql, log);
  return [output, keepLedger(events, store, log)];
}
