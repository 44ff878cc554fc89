import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { GROUPS, loadConfig, VARIABLES, type Variable } from "../../src/config.js";
import { readmeBlock, renderEnvExample, renderReadmeTable, withReadmeTable } from "../../src/config/docs.js";

const root = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const names = Object.keys(VARIABLES);
const regenerate = "out of date: run `npm run config:docs` and commit the result";

/** The NAME=value lines of an env file, as an environment. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/** The cells of a markdown table row, splitting only on unescaped pipes. */
const cells = (row: string) =>
  row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());

describe(".env.example", () => {
  it("is the text rendered from the table in src/config.ts", () => {
    expect(read(".env.example"), regenerate).toBe(renderEnvExample());
  });

  it("shows the real defaults: loaded as an environment it gives the same config as none", () => {
    const env = parseEnvFile(renderEnvExample());
    expect(Object.keys(env)).toEqual(expect.arrayContaining(names));
    expect(Object.keys(env)).toHaveLength(names.length);
    expect(loadConfig(env)).toEqual(loadConfig({}));
    expect(env.DATABASE_SCHEMA).toBe("public");
    expect(env.JOB_RUNNER_ID).toBe("");
  });

  it("puts each variable under its group's heading, after its description, values and secrecy", () => {
    let heading = "";
    let comment: string[] = [];
    const seen: string[] = [];
    for (const line of renderEnvExample().split("\n")) {
      expect(line.length, line).toBeLessThanOrEqual(100);
      if (line.startsWith("# --- ")) heading = line;
      if (line.startsWith("# ") && !line.startsWith("# --- ")) {
        comment.push(line.slice(2));
        continue;
      }
      const name = /^([A-Z_]+)=/.exec(line)?.[1] as keyof typeof VARIABLES | undefined;
      if (name) {
        const variable: Variable = VARIABLES[name];
        expect(heading, name).toContain(GROUPS[variable.group]);
        const text = comment.join(" ");
        expect(text.startsWith(`${variable.description} Values: ${variable.schema.description}.`), text).toBe(
          true,
        );
        expect(text.includes("Secret: never echoed"), name).toBe(variable.secret === true);
        seen.push(name);
      } else expect(line === "" || line.startsWith("#"), line).toBe(true);
      comment = [];
    }
    expect(seen.toSorted()).toEqual(names.toSorted());
  });
});

describe("README's configuration table", () => {
  it("is the table rendered from src/config.ts, between the markers", () => {
    expect(readmeBlock(read("README.md")), regenerate).toBe(renderReadmeTable());
  });

  it("has one row of four cells per variable, pipes in values escaped", () => {
    const rows = renderReadmeTable()
      .split("\n")
      .filter((row) => row.startsWith("| "));
    for (const row of rows) expect(cells(row), row).toHaveLength(4);
    const byName = new Map(rows.map((row) => [cells(row)[0], cells(row)]));
    for (const name of names) expect(byName.has(name), name).toBe(true);
    expect(byName.get("LOG_FORMAT")).toEqual([
      "LOG_FORMAT",
      "`auto`",
      "auto \\| json \\| pretty",
      VARIABLES.LOG_FORMAT.description,
    ]);
    expect(byName.get("JOB_RUNNER_ID")?.[1]).toBe("the host name");
    expect(byName.get("DATABASE_URL")?.slice(1, 3)).toEqual(["unset", "postgres:// URL (secret)"]);
    expect(rows.filter((row) => /^\| \*\*/.test(row))).toHaveLength(Object.keys(GROUPS).length);
  });

  it("replacing the block keeps the rest of the README and fails without markers", () => {
    const readme = "intro\n<!-- config:start -->\nold table\n<!-- config:end -->\n\nafter\n";
    const updated = withReadmeTable(readme);
    expect(updated.startsWith("intro\n<!-- config:start -->\n")).toBe(true);
    expect(updated.endsWith("\n<!-- config:end -->\n\nafter\n")).toBe(true);
    expect(readmeBlock(updated)).toBe(renderReadmeTable());
    expect(withReadmeTable(updated)).toBe(updated);
    expect(() => withReadmeTable("no markers")).toThrow(/config:start/);
    expect(() => readmeBlock("<!-- config:end --> <!-- config:start -->")).toThrow(/config:start/);
  });
});
