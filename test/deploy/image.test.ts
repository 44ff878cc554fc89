import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// deploy/image-test.sh builds and runs the image (CI runs it: .ci/run); this checks, without
// podman, what lets it build on a machine no registry serves: the base image is a build argument
// whose default stays the public one, and the cached base never enters git or the build context.
const root = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("the container image can be built from a local base", () => {
  it("takes its base from the NODE_IMAGE build argument, by default the public node image", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+-bookworm-slim$/m);
    const froms = dockerfile.match(/^FROM .*$/gm)!;
    expect(froms).toEqual(["FROM ${NODE_IMAGE} AS build", "FROM ${NODE_IMAGE}"]);
    // A proxy's CA reaches npm as a build argument naming a mounted file, never as an ENV.
    expect(dockerfile).not.toMatch(/^ENV[^\n]*NODE_EXTRA_CA_CERTS/m);
  });

  it("keeps the cached base outside the checkout, where a fresh clone on the same machine finds it", () => {
    expect(read("deploy/base-image.sh")).toContain("cache=${XDG_CACHE_HOME:-$HOME/.cache}/runner-image");
    expect(read(".dockerignore").split("\n")).toContain(".cache");
  });

  it("is built, run and stopped by CI through deploy/image-test.sh", () => {
    expect(read(".ci/run")).toMatch(/^bash deploy\/image-test\.sh$/m);
    const script = read("deploy/image-test.sh");
    for (const check of [
      "/readyz",
      "healthcheck run",
      "--signal TERM",
      "interrupted",
      "id -u",
      "image inspect",
    ])
      expect(script).toContain(check);
  });
});
