import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE, README, ROOT, readmeBlocks } from "./readme.js";

/** `runner` on the npm registry is an unrelated package ("Simple task runner"). */
const TAKEN = "runner";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist" || name === "output") return [];
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Bare specifiers of import statements: what a reader would `npm install`. */
function packageImports(code: string): string[] {
  return [...code.matchAll(/\bfrom\s+["']([^"'./][^"']*)["']/g)]
    .map((m) => m[1]!)
    .filter((spec) => !spec.startsWith("node:"));
}

describe("the package name", () => {
  it("is not the registry's unrelated `runner`, and still installs the command `runner`", () => {
    expect(PACKAGE.name).not.toBe(TAKEN);
    expect(PACKAGE.bin).toEqual({ runner: "bin/runner" });
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      name: string;
      packages: Record<string, { name?: string }>;
    };
    expect([lock.name, lock.packages[""]?.name]).toEqual([PACKAGE.name, PACKAGE.name]);
  });

  it("is what README's imports and install lines use", () => {
    const imports = readmeBlocks().flatMap((block) => packageImports(block.code));
    expect(imports.length).toBeGreaterThanOrEqual(2);
    expect(new Set(imports)).toEqual(new Set([PACKAGE.name]));
    expect(README).toContain(`npm install ${PACKAGE.name}\n`);
    expect(README).not.toMatch(/npm (install|i) runner\b/);
  });

  it("is what imports in test/, bench/ and deploy/ use, where they import the package", () => {
    const offenders = ["test", "bench", "deploy"]
      .flatMap((dir) => files(join(ROOT, dir)))
      .filter((path) => /\.(ts|mjs|js|md|ya?ml|sh)$/.test(path))
      .filter((path) => {
        const text = readFileSync(path, "utf8");
        return packageImports(text).includes(TAKEN) || /npm (install|i) runner\b/.test(text);
      })
      .map((path) => relative(ROOT, path));
    expect(offenders).toEqual([]);
  });
});
