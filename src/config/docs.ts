import { GROUPS, VARIABLES, type Variable } from "./variables.js";

/*
 * The documentation of the environment, rendered from the table in config.ts:
 * `npm run config:docs` writes .env.example and the README's block, and tests compare both.
 */

const WIDTH = 100;
export const README_START = "<!-- config:start -->";
export const README_END = "<!-- config:end -->";

/** The variables section by section, in the order of GROUPS. */
function byGroup(): { title: string; variables: [string, Variable][] }[] {
  const all = Object.entries(VARIABLES) as [string, Variable][];
  return Object.entries(GROUPS).map(([group, title]) => ({
    title,
    variables: all.filter(([, v]) => v.group === group),
  }));
}

/** What the variable accepts, then what unset means when that is not its default. */
function notes(v: Variable): string[] {
  const notes = [`Values: ${v.schema.description ?? "text"}.`];
  if (v.fallback) notes.push(`Default: ${v.fallback.text}.`);
  if (v.secret) notes.push("Secret: never echoed in error messages.");
  return notes;
}

/** Comment lines of at most WIDTH characters. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(" ")) {
    if (line !== "#" && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** The full text of .env.example. */
export function renderEnvExample(): string {
  const out = [
    ...comment("runner's environment. Every variable is optional; the value shown is the default."),
    ...comment(
      "Invalid values (a non-number, a malformed URL, an unknown RUNNER_ENV) stop startup with exit 2.",
    ),
    ...comment("Generated from src/config.ts by `npm run config:docs`: edit the table there, not this file."),
  ];
  for (const { title, variables } of byGroup()) {
    out.push("", `# --- ${title} `.padEnd(WIDTH, "-"));
    for (const [name, v] of variables) {
      out.push(...comment(v.description), ...comment(notes(v).join(" ")), `${name}=${v.default ?? ""}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** Markdown-safe: a pipe would end the cell, a star start emphasis. */
const cell = (text: string) => text.replace(/[|*]/g, (c) => `\\${c}`);

/** The README's table of variables, grouped, with the markers' comment on how to regenerate it. */
export function renderReadmeTable(): string {
  const rows = [
    "<!-- generated from src/config.ts by `npm run config:docs`: edit the table there -->",
    "| variable | default | values | meaning |",
    "| --- | --- | --- | --- |",
  ];
  for (const { title, variables } of byGroup()) {
    rows.push(`| **${cell(title)}** | | | |`);
    for (const [name, v] of variables) {
      const value = v.default ? `\`${v.default}\`` : (v.fallback?.text ?? "unset");
      const values = `${v.schema.description ?? "text"}${v.secret ? " (secret)" : ""}`;
      rows.push(`| ${name} | ${cell(value)} | ${cell(values)} | ${cell(v.description)} |`);
    }
  }
  return rows.join("\n");
}

/** Where the README's block starts and ends; throws when its markers are missing. */
function markers(readme: string): { from: number; to: number } {
  const start = readme.indexOf(README_START);
  const to = readme.indexOf(README_END);
  if (start < 0 || to < start) throw new Error(`README: expected ${README_START} … ${README_END}`);
  return { from: start + README_START.length, to };
}

/** The text between the README's markers, trimmed. */
export function readmeBlock(readme: string): string {
  const { from, to } = markers(readme);
  return readme.slice(from, to).trim();
}

/** The README with its block replaced by the rendered table. */
export function withReadmeTable(readme: string): string {
  const { from, to } = markers(readme);
  return `${readme.slice(0, from)}\n${renderReadmeTable()}\n${readme.slice(to)}`;
}
