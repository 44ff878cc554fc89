import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbedded } from "../../src/store/embedded.js";

/**
 * Tests use TEST_DATABASE_URL when it is set, and otherwise one embedded PostgreSQL started here
 * for the whole run. Each test file then works in a schema of its own.
 */
export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), "runner-test-db-"));
    chmodSync(dir, 0o755);
    const embedded = await startEmbedded(dir, () => {}, { tcp: true });
    url = embedded.url;
    stop = async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  project.provide("databaseUrl", url);
  return stop;
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
