import type { Sql } from "postgres";
import { type Sidecar, startSidecar } from "../../src/http/sidecar.js";
import { testRunner } from "./runner.js";

/** A runner with its sidecar on a free loopback port. */
export async function sidecarRunner(sql: Sql, env: Record<string, string> = {}) {
  const made = testRunner(sql, { HTTP_HOST: "127.0.0.1", HTTP_PORT: "0", ...env });
  const sidecar: Sidecar = await startSidecar(made.runner);
  const base = `http://127.0.0.1:${sidecar.port}`;
  const request = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
  return { ...made, sidecar, base, request };
}

export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
