import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
export const PACKAGE = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as {
  name: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files: string[];
};

/** Every fenced code block of the README, with its language. */
export function readmeBlocks(): { lang: string; code: string }[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** The first README code block that contains `marker`; fails loudly when none does. */
export function readmeBlock(marker: string): string {
  const block = readmeBlocks().find((b) => b.code.includes(marker));
  if (!block) throw new Error(`README.md has no code block containing ${JSON.stringify(marker)}`);
  return block.code;
}
