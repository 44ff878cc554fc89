import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** The layer rules of docs/architecture.md, checked on the source's relative imports (type-only too). */
const SRC = resolve(import.meta.dirname, "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** file (relative to src) -> the files it imports (relative to src). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
      relative(SRC, resolve(dirname(file), m[1]!)).replace(/\.js$/, ".ts"),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const layer = (file: string) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : file);

/** What each lower layer may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  util: ["types.ts"],
  schedule: ["types.ts", "errors.ts", "util"],
  store: ["types.ts", "config.ts", "errors.ts", "version.ts", "util"],
};

describe("the architecture", () => {
  const graph = importGraph();

  it("has no import cycle", () => {
    expect(cycles(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });

  it("keeps schedule/, store/ and util/ below the rest", () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const allowed = ALLOWED[layer(file)];
      if (!allowed) continue;
      for (const target of targets) {
        const to = layer(target);
        if (to !== layer(file) && !allowed.includes(to)) violations.push(`${file} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("keeps src/ small at the top and every file under 300 lines", () => {
    const top = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isFile() && name.endsWith(".ts"));
    expect(top.length).toBeLessThanOrEqual(8);
    const long = sourceFiles(SRC)
      .map((file) => [relative(SRC, file), readFileSync(file, "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 300);
    expect(long).toEqual([]);
  });

  it("finds a cycle when there is one (the checker itself works)", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(cycles(graph)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
  });
});
