import cronstrue from "cronstrue";

/**
 * A cron expression in words ("At 02:00, Monday through Friday"), by cronstrue: its wording of
 * ranges, steps, lists and nicknames is well kept and far beyond what we would write. Undefined
 * when cronstrue cannot read an expression croner accepted: the page shows it as written only.
 */
export function scheduleInWords(expression: string): string | undefined {
  if (said.has(expression)) return said.get(expression);
  let words: string | undefined;
  try {
    words = cronstrue.toString(expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    words = undefined;
  }
  // About half a millisecond each: a page of 100 jobs would spend 50 ms saying schedules again.
  if (said.size >= MAX_SAID) said.delete(said.keys().next().value!);
  said.set(expression, words);
  return words;
}

const MAX_SAID = 10_000;
/** Expressions already put in words, oldest first (dropped first past MAX_SAID). */
const said = new Map<string, string | undefined>();
