/**
 * Why `text` is not JSON, with the line and column where known, or undefined when it is. The
 * jobs-file loader reads JSON with the YAML parser (for positions), which also takes what JSON
 * forbids, such as a trailing comma; a .json file is held to JSON first.
 */
export function jsonProblem(
  text: string,
): { at?: { line: number; col: number }; message: string } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const comma = trailingComma(text);
    if (comma !== undefined)
      return { at: position(text, comma), message: "trailing comma (JSON allows none)" };
    const offset = /at position (\d+)/.exec(raw)?.[1];
    // V8 quotes part of the text in some messages ('Unexpected token ..., "..." is not valid JSON').
    const message = raw.replace(/,\s*".*$/s, "").replace(/ in JSON at position \d+.*$/s, "");
    return { at: offset === undefined ? undefined : position(text, Number(offset)), message };
  }
}

/** The offset of the first comma followed (after whitespace) by `]` or `}`, outside strings. */
function trailingComma(text: string): number | undefined {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ",") {
      // Whitespace runs between commas are disjoint: the whole scan stays linear.
      let next = i + 1;
      while (next < text.length && /\s/.test(text[next]!)) next++;
      if (text[next] === "]" || text[next] === "}") return i;
    }
  }
  return undefined;
}

function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}
