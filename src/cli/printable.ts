/** C0 and C1 control characters but tab: what a terminal would act on instead of showing. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * A line from a job (its output, an error text) made safe for a terminal: an escape sequence in a
 * script's stdout must not move the cursor, rewrite the screen or set the window title of the
 * operator reading `runner logs`. Each control character shows as `\xNN`.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
