import cronstrue from "cronstrue";

/**
 * A cron expression in words ("At 02:00, Monday through Friday"), by cronstrue: its wording of
 * ranges, steps, lists and nicknames is well kept and far beyond what we would write. Undefined
 * when cronstrue cannot read an expression croner accepted: the page shows it as written only.
 */
export function scheduleInWords(expression: string): string | undefined {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    return undefined;
  }
}
